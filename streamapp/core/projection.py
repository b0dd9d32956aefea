"""The pictures analysts draw by hand: a 2-D projection of customers and per-segment histograms.

Both work on a sample of customers (a few hundred), so they are cheap enough to recompute every
few seconds for the dashboard. The projection is a PCA of the standardised feature vectors, by
numpy's SVD: a linear map, so distances on the picture mean something, unlike t-SNE or UMAP, and
no extra dependency.

>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> points = np.vstack([rng.normal(0, 1, (20, 5)), rng.normal(6, 1, (20, 5))])
>>> xy = pca_2d(points)
>>> xy.shape, bool(abs(xy[:20, 0].mean() - xy[20:, 0].mean()) > 3)
((40, 2), True)
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

FloatArray = np.ndarray


def standardise(matrix: FloatArray) -> FloatArray:
    """Each column centred and scaled to unit variance; constant columns become zeros.

    >>> standardise(np.array([[1.0, 5.0], [3.0, 5.0]])).tolist()
    [[-1.0, 0.0], [1.0, 0.0]]
    """
    centred = matrix - matrix.mean(axis=0)
    scale = matrix.std(axis=0)
    scale[scale == 0] = 1.0
    return np.asarray(centred / scale, dtype=np.float64)


def pca_2d(matrix: FloatArray) -> FloatArray:
    """The first two principal components of the standardised rows, as an (n, 2) array.

    Signs are fixed (the largest loading of each component is positive) so the picture does not
    mirror itself from one refresh to the next.

    >>> pca_2d(np.zeros((0, 3))).shape, pca_2d(np.ones((1, 3))).tolist()
    ((0, 2), [[0.0, 0.0]])
    """
    n = matrix.shape[0]
    if n < 2:
        return np.zeros((n, 2))
    z = standardise(np.asarray(matrix, dtype=np.float64))
    _, _, vt = np.linalg.svd(z, full_matrices=False)
    components = vt[:2]
    signs = np.sign(components[np.arange(len(components)), np.abs(components).argmax(axis=1)])
    signs[signs == 0] = 1.0
    out = np.zeros((n, 2))
    out[:, : len(components)] = z @ (components * signs[:, None]).T
    return out


def histogram_by_segment(
    values: Sequence[float], segments: Sequence[str], bins: int = 12
) -> dict[str, object]:
    """Shared bin edges over all values, and the count per bin for each segment.

    >>> h = histogram_by_segment([0, 1, 2, 3], ["a", "a", "b", "b"], bins=2)
    >>> h["edges"], h["counts"]
    ([0.0, 1.5, 3.0], {'a': [2, 0], 'b': [0, 2]})
    """
    data = np.asarray(values, dtype=np.float64)
    if data.size == 0:
        return {"edges": [], "counts": {}}
    low, high = float(data.min()), float(data.max())
    if high == low:
        high = low + 1.0
    edges = np.linspace(low, high, bins + 1)
    labels = np.asarray(segments)
    counts = {
        str(segment): [int(c) for c in np.histogram(data[labels == segment], bins=edges)[0]]
        for segment in sorted(set(segments))
    }
    return {"edges": [round(float(e), 4) for e in edges], "counts": counts}
