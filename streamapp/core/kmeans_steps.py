"""The numeric steps of k-means, as pure functions on numpy arrays.

`MiniBatchKMeans` (in `model.py`) strings these together; keeping them apart lets each step be
checked against a hand computation without building a whole model. No library step fits: scipy's
``kmeans2`` has no greedy k-means++ nor per-centre weights, and scikit-learn is not a dependency.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]


def squared_distances(points: FloatArray, centres: FloatArray) -> FloatArray:
    """Squared Euclidean distance from every point (row) to every centre: an ``n × k`` array.

    Computed by broadcasting rather than the ``|a|² - 2ab + |b|²`` expansion, which cancels
    badly for nearby points; at our sizes (a batch × a handful of centres × five features) the
    extra memory is small.

    >>> squared_distances(np.array([[0.0, 0.0], [3.0, 4.0]]), np.array([[0.0, 0.0]])).tolist()
    [[0.0], [25.0]]
    """
    diff = points[:, np.newaxis, :] - centres[np.newaxis, :, :]
    distances: FloatArray = np.einsum("nkd,nkd->nk", diff, diff)
    return distances


def sample_weighted(weights: FloatArray, size: int, rng: np.random.Generator) -> IntArray:
    """Draw `size` indices with probability proportional to `weights` (uniform if all are 0).

    Inverse-CDF sampling instead of ``rng.choice(p=...)``: the latter rejects probabilities
    whose float sum drifts from 1, which happens with long arrays of tiny distances.

    >>> sample_weighted(np.array([0.0, 0.0, 5.0]), 3, np.random.default_rng(0)).tolist()
    [2, 2, 2]
    """
    cumulative = np.cumsum(weights)
    total = float(cumulative[-1]) if len(cumulative) else 0.0
    if total <= 0:
        return rng.integers(len(weights), size=size).astype(np.intp)
    picks = np.searchsorted(cumulative, rng.random(size) * total, side="right")
    return np.minimum(picks, len(weights) - 1).astype(np.intp)


def kmeans_plusplus(points: FloatArray, k: int, rng: np.random.Generator) -> IntArray:
    """Pick `k` row indices of `points` as initial centres by greedy k-means++.

    Each step draws ``2 + ln k`` candidates with probability proportional to their squared
    distance from the centres chosen so far and keeps the one that lowers the total cost most
    (Arthur & Vassilvitskii 2007; the greedy variant is what most libraries ship because plain
    k-means++ too often spends a centre on an outlier).

    >>> pts = np.array([[0.0, 0.0], [0.1, 0.0], [10.0, 10.0], [10.1, 10.0]])
    >>> sorted(int(i) // 2 for i in kmeans_plusplus(pts, 2, np.random.default_rng(42)))
    [0, 1]
    """
    n = points.shape[0]
    if not 1 <= k <= n:
        raise ValueError(f"need between 1 and {n} centres, got {k}")
    trials = 2 + int(math.log(k))
    chosen = [int(rng.integers(n))]
    closest = squared_distances(points, points[chosen])[:, 0]
    for _ in range(1, k):
        candidates = sample_weighted(closest, trials, rng)
        candidate_closest = np.minimum(
            closest[:, np.newaxis], squared_distances(points, points[candidates])
        )
        best = int(np.argmin(candidate_closest.sum(axis=0)))
        chosen.append(int(candidates[best]))
        closest = candidate_closest[:, best]
    return np.asarray(chosen, dtype=np.intp)


def lloyd(
    points: FloatArray,
    centres: FloatArray,
    scale: FloatArray | None = None,
    max_iterations: int = 20,
) -> tuple[FloatArray, IntArray]:
    """Refine `centres` by Lloyd iterations on `points`; return ``(centres, labels)``.

    Points are assigned by distance after dividing each feature by `scale` (standardized
    distance: the mean shift cancels out), while means are taken in the units given. Because a
    mean commutes with per-feature scaling this equals running in standardized space, without
    the round-off of converting there and back.

    A centre that loses all its points stays where it is (the model later reseeds starved
    centres, so there is no need to invent a position here).

    >>> pts = np.array([[0.0], [2.0], [10.0], [12.0]])
    >>> centres, labels = lloyd(pts, np.array([[0.0], [10.0]]))
    >>> centres.tolist(), labels.tolist()
    ([[1.0], [11.0]], [0, 0, 1, 1])
    """
    centres = centres.copy()
    divisor = np.ones(points.shape[1]) if scale is None else scale
    labels = np.full(points.shape[0], -1, dtype=np.intp)
    for _ in range(max_iterations):
        distances = squared_distances(points / divisor, centres / divisor)
        new_labels = np.argmin(distances, axis=1).astype(np.intp)
        if np.array_equal(new_labels, labels):
            break
        labels = new_labels
        sums, counts = cluster_sums(points, labels, centres.shape[0])
        filled = counts > 0
        centres[filled] = sums[filled] / counts[filled, np.newaxis]
    return centres, labels


def cluster_sums(points: FloatArray, labels: IntArray, k: int) -> tuple[FloatArray, FloatArray]:
    """Per-cluster sum of points and number of points.

    >>> sums, counts = cluster_sums(np.array([[1.0], [2.0], [5.0]]), np.array([0, 0, 2]), 3)
    >>> sums.tolist(), counts.tolist()
    ([[3.0], [0.0], [5.0]], [2.0, 0.0, 1.0])
    """
    sums = np.zeros((k, points.shape[1]))
    np.add.at(sums, labels, points)
    counts = np.bincount(labels, minlength=k).astype(np.float64)
    return sums, counts


def minibatch_update(
    centres: FloatArray, weights: FloatArray, points: FloatArray, labels: IntArray, decay: float
) -> tuple[FloatArray, FloatArray]:
    """One mini-batch k-means step with forgetting; return new ``(centres, weights)``.

    Every weight is first multiplied by `decay` (all centres fade, as in Spark's streaming
    k-means); then each centre with ``c`` assigned points of mean ``m`` moves to
    ``centre + c / weight * (m - centre)`` with its weight raised by ``c``. With per-point
    steps this is exactly Sculley's (2010) per-centre learning rate ``1 / weight``.

    >>> centres, weights = minibatch_update(
    ...     np.array([[0.0], [10.0]]), np.array([1.0, 1.0]),
    ...     np.array([[1.0], [3.0]]), np.array([0, 0]), decay=0.5)
    >>> centres.tolist(), weights.tolist()
    ([[1.6], [10.0]], [2.5, 0.5])
    """
    sums, counts = cluster_sums(points, labels, centres.shape[0])
    return merge_cluster_sums(centres, weights, sums, counts, decay)


def merge_cluster_sums(
    centres: FloatArray, weights: FloatArray, sums: FloatArray, counts: FloatArray, decay: float
) -> tuple[FloatArray, FloatArray]:
    """`minibatch_update` given the batch's per-centre sums and counts instead of its points.

    This is the form workers exchange: sums and counts of a mini-batch are all another copy of
    the model needs to take the same step (the Redis script mirrors it operation for operation).

    >>> centres, weights = merge_cluster_sums(
    ...     np.array([[0.0], [10.0]]), np.array([1.0, 1.0]),
    ...     np.array([[4.0], [0.0]]), np.array([2.0, 0.0]), decay=0.5)
    >>> centres.tolist(), weights.tolist()
    ([[1.6], [10.0]], [2.5, 0.5])
    """
    new_weights = weights * decay + counts
    new_centres = centres.copy()
    moved = counts > 0
    batch_means = sums[moved] / counts[moved, np.newaxis]
    rates = counts[moved] / new_weights[moved]
    new_centres[moved] += rates[:, np.newaxis] * (batch_means - centres[moved])
    return new_centres, new_weights
