"""DecayedScaler: exact running statistics, exponential forgetting, persistence."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from streamapp.core.scaler import DecayedScaler


def _batches(seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.normal([100.0, 2.0], [30.0, 0.5], size=(n, 2)) for n in (7, 1, 20, 3)]


def test_without_forgetting_it_matches_numpy_whatever_the_batching() -> None:
    batches = _batches()
    points = np.vstack(batches)
    split = DecayedScaler(halflife=math.inf)
    for batch in batches:
        split.update(batch)
    whole = DecayedScaler(halflife=math.inf)
    whole.update(points)
    for scaler in (split, whole):
        assert scaler.weight == len(points)
        assert scaler.mean == pytest.approx(points.mean(axis=0), rel=1e-12)
        assert scaler.variance == pytest.approx(points.var(axis=0), rel=1e-12)


def test_forgetting_equals_explicitly_weighted_statistics() -> None:
    batches, halflife = _batches(), 5.0
    scaler = DecayedScaler(halflife=halflife)
    for batch in batches:
        scaler.update(batch)
    # A point's weight halves for every `halflife` points that arrived in later batches.
    sizes = [len(b) for b in batches]
    later = [sum(sizes[i + 1 :]) for i in range(len(batches))]
    weights = np.concatenate(
        [np.full(n, 0.5 ** (m / halflife)) for n, m in zip(sizes, later, strict=True)]
    )
    points = np.vstack(batches)
    mean = np.average(points, axis=0, weights=weights)
    assert scaler.weight == pytest.approx(weights.sum(), rel=1e-12)
    assert scaler.mean == pytest.approx(mean, rel=1e-12)
    assert scaler.variance == pytest.approx(
        np.average((points - mean) ** 2, axis=0, weights=weights), rel=1e-10
    )


def test_hand_computed_decay() -> None:
    scaler = DecayedScaler(halflife=1.0)
    scaler.update(np.array([[0.0], [0.0]]))
    scaler.update(np.array([[4.0]]))  # the zeros now weigh 0.5 each
    assert (scaler.weight, scaler.mean.tolist(), scaler.variance.tolist()) == (2.0, [2.0], [4.0])


def test_constant_features_are_left_unscaled() -> None:
    scaler = DecayedScaler()
    scaler.update(np.array([[1.0, 5.0], [3.0, 5.0]]))
    assert scaler.scale.tolist() == [1.0, 1.0]
    assert scaler.transform(np.array([[3.0, 5.0]])).tolist() == [[1.0, 0.0]]


def test_transform_and_inverse_are_each_others_inverse() -> None:
    scaler = DecayedScaler(halflife=10.0)
    for batch in _batches():
        scaler.update(batch)
    points = _batches(1)[0]
    assert scaler.inverse_transform(scaler.transform(points)) == pytest.approx(points)
    standardized = scaler.transform(np.vstack(_batches()))
    assert np.all(np.abs(standardized.mean(axis=0)) < 1.0)


def test_before_any_data_it_is_the_identity() -> None:
    scaler = DecayedScaler()
    assert scaler.n_features is None
    points = np.array([[2.0, -1.0]])
    assert scaler.transform(points).tolist() == points.tolist()
    assert scaler.inverse_transform(points).tolist() == points.tolist()
    scaler.update(np.zeros((0, 2)))
    assert scaler.n_features == 2 and scaler.weight == 0.0


@pytest.mark.parametrize("halflife", [3.0, math.inf])
def test_state_round_trips_through_strict_json(halflife: float) -> None:
    scaler = DecayedScaler(halflife=halflife)
    for batch in _batches():
        scaler.update(batch)
    text = json.dumps(scaler.state_dict(), allow_nan=False)
    restored = DecayedScaler.from_state_dict(json.loads(text))
    assert restored.state_dict() == scaler.state_dict()
    assert restored.halflife == halflife


def test_bad_input_is_rejected() -> None:
    with pytest.raises(ValueError, match="positive"):
        DecayedScaler(halflife=0.0)
    scaler = DecayedScaler(n_features=2)
    with pytest.raises(ValueError, match="expected 2 features"):
        scaler.update(np.ones((1, 3)))
    with pytest.raises(ValueError, match="2-D"):
        scaler.update(np.ones(3))
