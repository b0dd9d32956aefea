"""The dashboard's pictures: PCA projection and per-segment histograms."""

from __future__ import annotations

import numpy as np

from streamapp.core.projection import histogram_by_segment, pca_2d, standardise


def test_projection_separates_groups_and_is_stable_in_sign() -> None:
    rng = np.random.default_rng(1)
    near = rng.normal(0, 0.3, (50, 5))
    far = rng.normal(3, 0.3, (50, 5))
    xy = pca_2d(np.vstack([near, far]))
    assert xy.shape == (100, 2)
    assert abs(xy[:50, 0].mean() - xy[50:, 0].mean()) > 2 * (xy[:50, 0].std() + xy[50:, 0].std())
    # The same data in another order gives the same picture (no mirroring between refreshes).
    again = pca_2d(np.vstack([far, near]))
    assert np.allclose(np.sort(xy[:, 0]), np.sort(again[:, 0]))


def test_projection_of_constant_features_is_the_origin() -> None:
    assert np.allclose(pca_2d(np.ones((10, 5))), 0.0)
    assert np.allclose(standardise(np.ones((3, 2))), 0.0)


def test_histograms_share_edges_and_count_everyone() -> None:
    values = [0.0, 0.5, 1.0, 4.0, 4.5, 5.0]
    segments = ["a", "a", "a", "b", "b", "unassigned"]
    h = histogram_by_segment(values, segments, bins=5)
    counts = h["counts"]
    assert isinstance(counts, dict) and set(counts) == {"a", "b", "unassigned"}
    assert sum(sum(c) for c in counts.values()) == len(values)
    assert h["edges"][0] == 0.0 and h["edges"][-1] == 5.0
    assert histogram_by_segment([], []) == {"edges": [], "counts": {}}
    same = histogram_by_segment([2.0, 2.0], ["a", "a"], bins=2)
    assert same["counts"] == {"a": [2, 0]}
