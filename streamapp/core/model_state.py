"""The JSON form of a `MiniBatchKMeans`, which every worker shares through the store.

Only JSON types go in (lists, floats, ints, strings, None), and Python's float repr round-trips
exactly, so a model saved by one worker and loaded by another continues bit for bit. A format
number guards against loading a state written by an incompatible version.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from streamapp.core.kmeans_steps import FloatArray
from streamapp.core.scaler import DecayedScaler

if TYPE_CHECKING:  # the model imports this module; the name is needed only for annotations
    from streamapp.core.model import MiniBatchKMeans

STATE_FORMAT = 1


def dump_state(model: MiniBatchKMeans) -> dict[str, Any]:
    """The model's parameters and learned state as a JSON-ready dict.

    >>> from streamapp.core.model import MiniBatchKMeans
    >>> state = dump_state(MiniBatchKMeans(n_clusters=2, features=["a"]))
    >>> state["format"], state["centre_ids"], state["centres"]
    (1, ['seg-1', 'seg-2'], [[0.0], [0.0]])
    """
    return {
        "format": STATE_FORMAT,
        "params": {
            "n_clusters": model.n_clusters,
            # JSON has no infinity; None stands for "never forget".
            "halflife": None if math.isinf(model.halflife) else model.halflife,
            "seed": model.seed,
            "reservoir_size": model.reservoir_size,
            "dead_ratio": model.dead_ratio,
            "recent_size": model.recent_size,
            "features": None if model.features is None else list(model.features),
            "drift_speedup": model.drift_speedup,
            "drift_dead_ratio": model.drift_dead_ratio,
            "n_init": model.n_init,
        },
        "feature_names": None if model.feature_names is None else list(model.feature_names),
        "n_features": model.n_features,
        "version": model.version,
        "initialised": model.is_initialised,
        "centre_ids": list(model.centre_ids),
        "next_number": model._next_number,
        "weights": model._weights.tolist(),
        "centres": model._centres.tolist(),
        "reservoir": model._reservoir.tolist(),
        "recent": model._recent.tolist(),
        "scaler": model.scaler.state_dict(),
        "seen": model.seen,
        "fast_until": model.fast_until,
        "drifts": model.drifts,
        "last_drift_version": model.last_drift_version,
        "last_drift_seen": model.last_drift_seen,
        "inertia": model.inertia,
    }


def load_params(state: Mapping[str, Any]) -> dict[str, Any]:
    """The constructor arguments stored in `state`, after checking its format.

    >>> load_params({"format": 1, "params": {"halflife": None, "seed": 7}})
    {'halflife': inf, 'seed': 7}
    >>> load_params({"format": 99, "params": {}})
    Traceback (most recent call last):
    ...
    ValueError: unknown model state format 99; this version reads format 1
    """
    if state.get("format") != STATE_FORMAT:
        raise ValueError(
            f"unknown model state format {state.get('format')!r}; "
            f"this version reads format {STATE_FORMAT}"
        )
    params = dict(state["params"])
    if params.get("halflife", 0.0) is None:
        params["halflife"] = math.inf
    return params


def load_state(model: MiniBatchKMeans, state: Mapping[str, Any]) -> None:
    """Overwrite a freshly constructed model's learned state with the one in `state`.

    >>> from streamapp.core.model import MiniBatchKMeans
    >>> model = MiniBatchKMeans(n_clusters=1, features=["a"])
    >>> load_state(model, {**dump_state(model), "version": 3, "centre_ids": ["seg-9"]})
    >>> model.version, model.centre_ids
    (3, ['seg-9'])
    """
    names = state["feature_names"]
    width = int(state["n_features"])
    model._set_width(width)
    model.feature_names = None if names is None else tuple(names)
    model.version = int(state["version"])
    model.is_initialised = bool(state["initialised"])
    model.centre_ids = [str(segment_id) for segment_id in state["centre_ids"]]
    model._next_number = int(state["next_number"])
    model._weights = np.asarray(state["weights"], dtype=np.float64)
    model._centres = _rows(state["centres"], width)
    model._reservoir = _rows(state["reservoir"], width)
    model._recent = _rows(state["recent"], width)
    model.scaler = DecayedScaler.from_state_dict(state["scaler"])
    # Drift bookkeeping came after the first saved states: missing means "nothing happened yet".
    model.seen = int(state.get("seen", 0))
    model.fast_until = int(state.get("fast_until", 0))
    model.drifts = int(state.get("drifts", 0))
    model.last_drift_version = state.get("last_drift_version")
    model.last_drift_seen = state.get("last_drift_seen")
    model.inertia = float(state.get("inertia", 0.0))


def _rows(rows: Sequence[Sequence[float]], width: int) -> FloatArray:
    # An empty list loses its width in JSON, so rebuild the shape from the saved feature count.
    return np.asarray(rows, dtype=np.float64).reshape(len(rows), width)
