"""InertiaDrift, and what a drift does to the model: adapt faster for a while, and say so."""

from __future__ import annotations

import numpy as np

from streamapp.core.drift import InertiaDrift
from streamapp.core.model import MiniBatchKMeans


def test_a_stationary_stream_raises_no_alarm() -> None:
    rng = np.random.default_rng(3)
    watch = InertiaDrift()
    assert not any(watch.update(rng.chisquare(5, 250) / 5) for _ in range(80))
    assert watch.drifts == 0


def test_a_rise_is_a_drift_and_a_fall_is_not() -> None:
    rng = np.random.default_rng(4)
    rising, falling = InertiaDrift(), InertiaDrift()
    rising.update(rng.chisquare(5, 3000) / 5)
    falling.update(rng.chisquare(5, 3000) / 5 * 3)
    assert rising.update(rng.chisquare(5, 1000) / 5 * 3)
    assert not falling.update(rng.chisquare(5, 1000) / 5)


def test_one_outlier_is_capped_and_raises_no_alarm() -> None:
    watch = InertiaDrift(cap=10.0)
    watch.update(np.ones(2000))
    assert not watch.update([1e9])


def test_a_moved_persona_makes_the_model_adapt_faster_and_record_the_drift() -> None:
    rng = np.random.default_rng(5)
    means = np.array([[0.0, 0.0], [5.0, 0.0], [0.0, 5.0]])
    model = MiniBatchKMeans(n_clusters=3, halflife=2000.0, reservoir_size=64, seed=1)
    for _ in range(40):
        model.learn_batch(means[rng.integers(0, 3, 200)] + rng.normal(0, 0.3, (200, 2)))
    assert model.drifts == 0 and model.halflife_now == 2000.0
    means[2] = [5.0, 5.0]
    for _ in range(5):
        model.learn_batch(means[rng.integers(0, 3, 200)] + rng.normal(0, 0.3, (200, 2)))
    assert model.drifts == 1
    assert model.halflife_now == 2000.0 / model.drift_speedup
    assert model.last_drift_version is not None and model.last_drift_version > 40
    assert model.fast_until == model.last_drift_seen + 2 * 2000
    state = model.state_dict()
    assert state["drifts"] == 1 and state["last_drift_version"] == model.last_drift_version
