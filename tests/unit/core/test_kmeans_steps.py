"""The numeric k-means steps, each against a hand computation or a brute-force equivalent."""

from __future__ import annotations

import numpy as np
import pytest

from streamapp.core.kmeans_steps import (
    kmeans_plusplus,
    lloyd,
    minibatch_update,
    sample_weighted,
    squared_distances,
)


def test_squared_distances_match_brute_force() -> None:
    rng = np.random.default_rng(0)
    points, centres = rng.normal(size=(7, 3)), rng.normal(size=(4, 3))
    expected = [[float(((p - c) ** 2).sum()) for c in centres] for p in points]
    assert squared_distances(points, centres) == pytest.approx(np.array(expected))


def test_weighted_sampling_never_picks_zero_weights() -> None:
    picks = sample_weighted(np.array([0.0, 1.0, 0.0, 3.0]), 2000, np.random.default_rng(1))
    counts = np.bincount(picks, minlength=4)
    assert counts[0] == counts[2] == 0
    assert 0.2 < counts[1] / counts[3] < 0.45  # about 1 : 3


def test_kmeans_plusplus_takes_one_point_per_separated_blob_deterministically() -> None:
    rng = np.random.default_rng(2)
    blobs = np.vstack([rng.normal(m, 0.1, size=(30, 2)) for m in (0.0, 5.0, 10.0, 15.0)])
    chosen = kmeans_plusplus(blobs, 4, np.random.default_rng(42))
    assert sorted((chosen // 30).tolist()) == [0, 1, 2, 3]
    again = kmeans_plusplus(blobs, 4, np.random.default_rng(42))
    assert chosen.tolist() == again.tolist()


def test_kmeans_plusplus_copes_with_fewer_distinct_points_than_centres() -> None:
    chosen = kmeans_plusplus(np.zeros((5, 2)), 3, np.random.default_rng(0))
    assert len(chosen) == 3
    with pytest.raises(ValueError):
        kmeans_plusplus(np.zeros((2, 2)), 3, np.random.default_rng(0))


def test_lloyd_leaves_an_empty_centre_in_place_and_respects_the_scale() -> None:
    points = np.array([[0.0, 0.0], [1.0, 0.0]])
    centres, labels = lloyd(points, np.array([[0.0, 0.0], [50.0, 50.0]]))
    assert centres.tolist() == [[0.5, 0.0], [50.0, 50.0]] and labels.tolist() == [0, 0]
    # (0, 3) is nearer (2, 3) in raw units but nearer (0, 0) once the second feature is shrunk.
    point, centres = np.array([[0.0, 3.0]]), np.array([[0.0, 0.0], [2.0, 3.0]])
    assert lloyd(point, centres)[1].tolist() == [1]
    assert lloyd(point, centres, scale=np.array([1.0, 100.0]))[1].tolist() == [0]


def test_batch_step_equals_point_by_point_steps_with_rate_one_over_weight() -> None:
    rng = np.random.default_rng(3)
    centres, weights = rng.normal(size=(3, 2)), np.array([2.0, 5.0, 1.0])
    points = rng.normal(size=(12, 2))
    labels = np.argmin(squared_distances(points, centres), axis=1)
    batch_centres, batch_weights = minibatch_update(centres, weights, points, labels, decay=1.0)

    sequential_centres, sequential_weights = centres.copy(), weights.copy()
    for point, label in zip(points, labels, strict=True):
        sequential_weights[label] += 1
        rate = 1.0 / sequential_weights[label]
        sequential_centres[label] += rate * (point - sequential_centres[label])
    assert batch_centres == pytest.approx(sequential_centres, abs=1e-12)
    assert batch_weights.tolist() == sequential_weights.tolist()


def test_decay_multiplies_every_weight_before_the_points_count() -> None:
    centres, weights = minibatch_update(
        np.array([[0.0], [9.0]]), np.array([4.0, 8.0]), np.array([[2.0]]), np.array([0]), 0.25
    )
    assert weights.tolist() == [2.0, 2.0]
    assert centres.tolist() == [[1.0], [9.0]]  # rate 1 / 2 toward 2
