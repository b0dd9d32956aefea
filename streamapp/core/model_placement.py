"""Where centres go when they are created: the warm start, and the reseeding of starved ones.

Both are greedy k-means++ choices on a small set of points (the reservoir, the recent ring), so
they cost little and are deterministic in their inputs and seed.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from streamapp.core.kmeans_steps import FloatArray, kmeans_plusplus, lloyd, squared_distances
from streamapp.core.model_delta import Reseed


def initial_centres(
    reservoir: FloatArray, scale: FloatArray, k: int, restarts: int, seed: Sequence[int]
) -> tuple[FloatArray, FloatArray]:
    """Centres and their point counts: the best of `restarts` k-means++ + Lloyd runs.

    The reservoir is small, so restarts are cheap, and keeping the lowest inertia avoids
    starting with two centres on one persona (which mini-batch steps take long to undo).

    >>> pts = np.array([[0.0], [0.1], [5.0], [5.1]])
    >>> centres, counts = initial_centres(pts, np.ones(1), 2, 3, [1])
    >>> sorted(np.round(centres[:, 0], 2).tolist()), counts.tolist()
    ([0.05, 5.05], [2.0, 2.0])
    """
    best: tuple[float, FloatArray, FloatArray] | None = None
    for attempt in range(restarts):
        rng = np.random.default_rng([*seed, attempt])
        chosen = kmeans_plusplus(reservoir / scale, k, rng)
        centres, labels = lloyd(reservoir, reservoir[chosen], scale)
        inertia = float(squared_distances(reservoir / scale, centres / scale).min(axis=1).sum())
        if best is None or inertia < best[0]:
            best = (inertia, centres, np.bincount(labels, minlength=k).astype(np.float64))
    assert best is not None, "restarts must be at least 1"
    return best[1], best[2]


def plan_reseeds(
    centres: FloatArray,
    weights: FloatArray,
    centre_ids: Sequence[str],
    recent: FloatArray,
    scale: FloatArray,
    dead_ratio: float,
) -> tuple[Reseed, ...]:
    """Move every centre whose weight is under `dead_ratio` × the largest onto a recent point.

    Each goes to the recent point that lowers the recent points' inertia most (greedy
    k-means++ with every recent point a candidate: a few hundred, cheap): a dense, badly
    fitted place — where a persona moved to — rather than a lone outlier or the tail of a
    persona that already has its centre.

    >>> plans = plan_reseeds(np.array([[0.0], [9.0]]), np.array([100.0, 0.1]),
    ...                      ["seg-1", "seg-2"], np.array([[0.1], [4.0], [4.1], [3.9]]),
    ...                      np.ones(1), 0.02)
    >>> [(p.slot, p.old_id, p.centre.tolist(), p.weight) for p in plans]
    [(1, 'seg-2', [4.0], 4.0)]
    """
    threshold = dead_ratio * float(weights.max())
    starved = np.flatnonzero(weights < threshold)
    if starved.size == 0 or recent.shape[0] == 0:
        return ()
    centres = centres.copy()
    alive = np.ones(centres.shape[0], dtype=bool)
    alive[starved] = False
    scaled = recent / scale
    plans = []
    for index in starved.tolist():
        nearest = squared_distances(scaled, centres[alive] / scale).min(axis=1)
        after = np.minimum(nearest[:, np.newaxis], squared_distances(scaled, scaled))
        pick = int(np.argmin(after.sum(axis=0)))
        centres[index] = recent[pick]
        # Twice the starvation line: enough to survive a few batches while it attracts
        # points, small enough that its learning rate lets it move quickly.
        plans.append(Reseed(index, centre_ids[index], recent[pick].copy(), 2.0 * threshold))
        alive[index] = True
    return tuple(plans)
