"""How well the centres fit: inertia and a silhouette estimate on a sample of recent points.

scikit-learn's ``silhouette_score`` would do, but scikit-learn is only a benchmark dependency;
on the few hundred recent points a model keeps, the plain O(n²) definition is instant.
"""

from __future__ import annotations

import numpy as np

from streamapp.core.kmeans_steps import FloatArray, IntArray, squared_distances


def inertia_per_point(points: FloatArray, centres: FloatArray) -> float:
    """Mean squared distance of each point to its nearest centre (0 for no points).

    >>> inertia_per_point(np.array([[0.0], [2.0]]), np.array([[1.0]]))
    1.0
    """
    if points.shape[0] == 0 or centres.shape[0] == 0:
        return 0.0
    return float(squared_distances(points, centres).min(axis=1).mean())


def silhouette(points: FloatArray, labels: IntArray) -> float | None:
    """Mean silhouette coefficient (Rousseeuw 1987), None with fewer than two clusters.

    A point's coefficient is ``(b - a) / max(a, b)``, ``a`` its mean distance to the rest of
    its cluster, ``b`` the smallest mean distance to another cluster; a point alone in its
    cluster counts 0, as in scikit-learn.

    >>> pts = np.array([[0.0], [0.2], [10.0], [10.2]])
    >>> round(silhouette(pts, np.array([0, 0, 1, 1])), 3)
    0.98
    >>> silhouette(pts, np.zeros(4, dtype=np.intp)) is None
    True
    """
    clusters = np.unique(labels)
    if clusters.size < 2 or clusters.size >= points.shape[0]:
        return None
    distance = np.sqrt(squared_distances(points, points))
    scores = np.zeros(points.shape[0])
    for i in range(points.shape[0]):
        own = labels == labels[i]
        if own.sum() < 2:
            continue
        a = distance[i, own].sum() / (own.sum() - 1)
        b = min(distance[i, labels == other].mean() for other in clusters if other != labels[i])
        scores[i] = (b - a) / max(a, b) if max(a, b) > 0 else 0.0
    return float(scores.mean())
