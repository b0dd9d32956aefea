"""What one mini-batch teaches the model, as data: the unit that workers merge into shared state.

`MiniBatchKMeans.learn_batch` is ``apply_delta(delta_for(points))``. A worker sharing the model
sends the same delta to Redis, where a Lua script applies it with the same rule to the shared
sufficient statistics (per-centre decayed weights and means, scaler moments, version). Because
the decay is part of the delta's *application*, not of its computation — the shared state fades
by ``0.5 ** (points merged / half-life)`` at the moment of merging — decay stays consistent
whichever worker saw which points, and two workers fed disjoint halves of a stream fade the model
exactly as one worker fed all of it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from streamapp.core.kmeans_steps import FloatArray


@dataclass(frozen=True)
class Reseed:
    """Move centre `slot` (currently `old_id`) to `centre` with `weight`, under a new id."""

    slot: int
    old_id: str
    centre: FloatArray
    weight: float


@dataclass(frozen=True)
class ModelDelta:
    """One mini-batch's contribution to the model.

    Attributes
    ----------
    delta_id
        Unique per delta, so a retried merge is applied once.
    points
        Points in the batch; the scaler fades by this many points.
    learned
        Points that moved centres (the batch minus what went into the reservoir); centre
        weights fade by this many points.
    halflife, fast_halflife, fast_points
        The forgetting rule: the half-life in points, the shorter one used for `fast_points`
        points after a drift (``math.inf`` never forgets).
    centre_ids
        Ids of the centres the points were assigned to; a slot whose id has changed since (it
        was reseeded by another worker) takes nothing from this delta.
    counts, sums
        Points assigned to each centre and their sum (``k`` and ``k × d``).
    mean, m2
        The batch's per-feature mean and sum of squared deviations (for the scaler).
    reservoir
        Rows for the warm-start reservoir (only while the model is not initialised).
    recent
        The batch's last rows, for the shared ring of recent points (where starved centres are
        reseeded and the silhouette is estimated).
    initial_centres, initial_weights
        The warm start computed from a full reservoir, or ``None``; the first one merged wins.
    reseeds
        Starved centres to move.
    drift
        The batch's points fit the centres significantly worse than before.
    inertia
        Mean squared standardized distance of the batch's points to their centres (a figure
        for this worker's report; the shared state does not keep it).
    """

    delta_id: str
    points: int
    learned: int
    halflife: float
    fast_halflife: float
    fast_points: float
    centre_ids: tuple[str, ...]
    counts: FloatArray
    sums: FloatArray
    mean: FloatArray
    m2: FloatArray
    reservoir: FloatArray
    recent: FloatArray = field(default_factory=lambda: np.zeros((0, 0)))
    initial_centres: FloatArray | None = None
    initial_weights: FloatArray | None = None
    reseeds: tuple[Reseed, ...] = field(default_factory=tuple)
    drift: bool = False
    inertia: float = 0.0

    def to_json(self) -> dict[str, Any]:
        """JSON-ready form, an argument of the shared merge script (``0`` stands for ∞).

        The reservoir and recent rows are only counted: they go beside the JSON, as
        `packed_rows`.

        >>> delta = ModelDelta("d1", 2, 2, float("inf"), 10.0, 5.0, ("seg-1",),
        ...                    np.array([2.0]), np.array([[3.0]]), np.array([1.5]),
        ...                    np.array([0.5]), np.zeros((0, 1)), np.array([[1.0], [2.0]]))
        >>> body = delta.to_json()
        >>> body["halflife"], body["counts"], body["sums"], body["init"], body["recent_rows"]
        (0, [2.0], [[3.0]], None, 2)
        """
        init = None
        if self.initial_centres is not None and self.initial_weights is not None:
            init = {"centres": self.initial_centres.tolist(),
                    "weights": self.initial_weights.tolist()}
        return {
            "id": self.delta_id,
            "points": self.points,
            "learned": self.learned,
            "halflife": _finite_or_zero(self.halflife),
            "fast_halflife": _finite_or_zero(self.fast_halflife),
            "fast_points": _finite_or_zero(self.fast_points),
            "ids": list(self.centre_ids),
            "counts": self.counts.tolist(),
            "sums": self.sums.tolist(),
            "mean": self.mean.tolist(),
            "m2": self.m2.tolist(),
            "reservoir_rows": int(self.reservoir.shape[0]),
            "recent_rows": int(self.recent.shape[0]),
            "init": init,
            "reseeds": [{"slot": r.slot, "old": r.old_id, "centre": r.centre.tolist(),
                         "weight": r.weight} for r in self.reseeds],
            "drift": self.drift,
        }

    def packed_rows(self) -> bytes:
        """The reservoir rows, then the recent rows, as little-endian float64, row-major: the
        argument of the shared merge script that follows `to_json`'s.

        The script stores each number as text; raw doubles reach it exact and cost it no
        parsing, where the same numbers in JSON cost about as much to parse as to format.

        >>> delta = ModelDelta("d1", 2, 2, 10.0, 10.0, 5.0, ("seg-1",), np.array([2.0]),
        ...                    np.array([[3.0]]), np.array([1.5]), np.array([0.5]),
        ...                    np.array([[0.25]]), np.array([[1.0], [2.0]]))
        >>> np.frombuffer(delta.packed_rows(), "<f8").tolist()
        [0.25, 1.0, 2.0]
        """
        rows = np.concatenate([self.reservoir.ravel(), self.recent.ravel()])
        return rows.astype("<f8", copy=False).tobytes()


def decay_factor(points: int, halflife: float) -> float:
    """How much older points count after `points` more: ``0.5 ** (points / halflife)``.

    >>> decay_factor(10, 10.0), decay_factor(10, float("inf"))
    (0.5, 1.0)
    """
    return float(0.5 ** (points / halflife))


def _finite_or_zero(value: float) -> float:
    return 0 if np.isinf(value) else value
