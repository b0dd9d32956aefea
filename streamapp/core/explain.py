"""Why a customer is in its segment: distance to every segment and the features that decide.

Distances are the model's own (squared, after standardisation), so the explanation is exactly
what the model acted on. The deciding features are those whose standardized gap to the
runner-up segment's centre most exceeds the gap to the customer's own: they are what would
have to change for the customer to move.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np

from streamapp.core.kmeans_steps import FloatArray
from streamapp.core.scaler import DecayedScaler


class ExplainableModel(Protocol):
    """A model with named centres in original units and a scaler (`MiniBatchKMeans` is one)."""

    centre_ids: list[str]
    is_initialised: bool
    scaler: DecayedScaler

    def centres_original(self) -> FloatArray: ...


def explain_assignment(
    vector: Sequence[float],
    model: ExplainableModel,
    feature_names: Sequence[str],
    segment: str | None = None,
    top: int = 3,
) -> dict[str, Any] | None:
    """Distances to every segment and the `top` features that put the customer in `segment`.

    `segment` is the customer's recorded segment (hysteresis may keep a customer in a segment
    that is not the nearest); ``None`` explains the nearest one. Returns None before the model
    has centres.

    >>> from streamapp.core.model import MiniBatchKMeans
    >>> model = MiniBatchKMeans(n_clusters=2, reservoir_size=4, halflife=float("inf"))
    >>> model.learn_batch(np.array([[0.0, 5.0], [0.0, 5.5], [10.0, 5.0], [10.0, 5.5]]))
    >>> why = explain_assignment([9.0, 5.2], model, ["spend", "visits"], top=1)
    >>> why["segment"] == model.centre_ids[model.predict_many(np.array([[9.0, 5.2]]))[0]]
    True
    >>> [f["feature"] for f in why["deciding_features"]]
    ['spend']
    """
    if not model.is_initialised or not model.centre_ids:
        return None
    point = np.asarray(vector, dtype=np.float64)
    scale = model.scaler.scale
    centres = model.centres_original()
    gaps = ((point - centres) / scale) ** 2  # k × d: each feature's share of each distance
    distances = gaps.sum(axis=1)
    order = np.argsort(distances)
    own = model.centre_ids.index(segment) if segment in model.centre_ids else int(order[0])
    others = [int(i) for i in order if int(i) != own]
    result: dict[str, Any] = {
        "segment": model.centre_ids[own],
        "distances": {model.centre_ids[i]: round(float(distances[i]), 4)
                      for i in order.tolist()},
        "runner_up": model.centre_ids[others[0]] if others else None,
        "deciding_features": [],
    }
    if not others:
        return result
    runner_up = others[0]
    advantage = gaps[runner_up] - gaps[own]
    total = float(np.clip(advantage, 0.0, None).sum()) or 1.0
    for column in np.argsort(-advantage)[:top].tolist():
        if advantage[column] <= 0:
            break
        result["deciding_features"].append({
            "feature": feature_names[column],
            "value": float(point[column]),
            "segment_centre": round(float(centres[own, column]), 4),
            "runner_up_centre": round(float(centres[runner_up, column]), 4),
            "share": round(float(advantage[column]) / total, 3),
        })
    return result
