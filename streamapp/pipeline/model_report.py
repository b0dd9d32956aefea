"""What the model looks like right now, for ``streamapp model show`` and ``GET /model``.

One dict for both, so the command line and the HTTP view always agree.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from streamapp.core.model import MiniBatchKMeans
from streamapp.core.model_quality import inertia_per_point, silhouette
from streamapp.core.segmenter import Segmenter


def model_report(segmenter: Segmenter | None) -> dict[str, Any]:
    """Version, segments (centre in original units, weight, name), fit and drift.

    Centres are in the model's feature units (the pipeline's ``log1p`` scales: see
    ``core/features.py``); ``centre_raw`` undoes the ``log1p`` (money, counts, days).
    ``inertia`` and ``silhouette`` are measured on the recent points the model keeps, in
    standardized units; both are None when there is nothing to measure.

    >>> model_report(None)["version"]
    0
    >>> from streamapp.core.features import FEATURE_NAMES
    >>> model = MiniBatchKMeans(n_clusters=2, reservoir_size=4, features=list(FEATURE_NAMES))
    >>> model.learn_batch(np.array([[0.0] * 5, [0.1] * 5, [5.0] * 5, [5.1] * 5]))
    >>> report = model_report(Segmenter(model, margin=0.1))
    >>> report["version"], len(report["segments"]), report["silhouette"] > 0.9
    (1, 2, True)
    """
    if segmenter is None:
        return {"version": 0, "kind": None, "features": [], "segments": [], "inertia": None,
                "silhouette": None, "drift": None}
    model = segmenter.model
    names = segmenter.names()
    features = list(model.features or ())
    centres = model.centres_original() if model.is_initialised else np.zeros((0, len(features)))
    weights = model.weights
    segments = [
        {"id": segment_id, "name": names.get(segment_id),
         "weight": round(float(weights[i]), 3) if i < len(weights) else None,
         "centre": dict(zip(features, np.round(centres[i], 4).tolist(), strict=False)),
         "centre_raw": dict(zip(features, np.round(np.expm1(centres[i]), 2).tolist(),
                                strict=False))}
        for i, segment_id in enumerate(model.centre_ids if model.is_initialised else [])
    ]
    report: dict[str, Any] = {
        "version": segmenter.version, "kind": type(model).__name__, "features": features,
        "initialised": model.is_initialised, "segments": segments, "inertia": None,
        "silhouette": None, "drift": None,
    }
    if isinstance(model, MiniBatchKMeans):
        report.update(_fit(model))
        report["halflife"] = model.halflife_now
        report["points_seen"] = model.seen
        report["drift"] = {"drifts": model.drifts, "last_version": model.last_drift_version,
                           "last_points_seen": model.last_drift_seen,
                           "adapting_faster": model.seen < model.fast_until}
    return report


def _fit(model: MiniBatchKMeans) -> dict[str, float | None]:
    recent = model._recent
    if not model.is_initialised or recent.shape[0] < 2:
        return {"inertia": None, "silhouette": None}
    scale = model.scaler.scale
    labels = np.argmin(model.distances(recent), axis=1).astype(np.intp)
    score = silhouette(recent / scale, labels)
    return {"inertia": round(inertia_per_point(recent / scale, model.centres_original() / scale),
                             4),
            "silhouette": None if score is None else round(score, 4)}
