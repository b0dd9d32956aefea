"""MiniBatchKMeans: the update rule, forgetting, initialisation, reseeding, persistence, quality."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest
from river import base
from scipy.special import comb

from streamapp.core.model import MiniBatchKMeans

CORNERS = np.array([[0.0, 0.0], [10.0, 10.0]])


def _index_of(model: MiniBatchKMeans, centre: list[float]) -> int:
    matches = np.flatnonzero(np.all(model.centres_original() == centre, axis=1))
    assert matches.size == 1, f"no single centre at {centre}: {model.centres_original()}"
    return int(matches[0])


def _two_corner_model(**params: Any) -> MiniBatchKMeans:
    """A model whose centres start exactly on (0, 0) and (10, 10), one point behind each."""
    model = MiniBatchKMeans(n_clusters=2, reservoir_size=2, **params)
    model.learn_batch(CORNERS)
    return model


def test_initial_centres_are_the_reservoir_points_when_it_holds_k_points() -> None:
    model = _two_corner_model()
    assert model.is_initialised
    assert sorted(model.centres_original().tolist()) == CORNERS.tolist()
    assert model.weights.tolist() == [1.0, 1.0]
    assert model.centre_ids == ["seg-1", "seg-2"]
    assert model.version == 1


def test_minibatch_update_matches_a_hand_computation() -> None:
    model = _two_corner_model(halflife=3.0)
    low, high = _index_of(model, [0.0, 0.0]), _index_of(model, [10.0, 10.0])

    model.learn_batch(np.array([[1.0, 0.0], [0.0, 1.0], [10.0, 12.0]]))

    # Three points with a half-life of three: both weights halve to 0.5 first.
    # Low centre: 2 points, mean (0.5, 0.5); weight 0.5 + 2 = 2.5; moves 2/2.5 of the way.
    # High centre: 1 point (10, 12); weight 0.5 + 1 = 1.5; moves 1/1.5 of the way.
    centres, weights = model.centres_original(), model.weights
    assert centres[low] == pytest.approx([0.4, 0.4], abs=1e-12)
    assert centres[high] == pytest.approx([10.0, 10.0 + 2.0 / 1.5], abs=1e-12)
    assert weights[low] == pytest.approx(2.5, abs=1e-12)
    assert weights[high] == pytest.approx(1.5, abs=1e-12)
    assert model.version == 2


def test_one_point_at_a_time_is_sculleys_per_centre_learning_rate() -> None:
    model = _two_corner_model(halflife=float("inf"), features=["x", "y"])
    low = _index_of(model, [0.0, 0.0])

    model.learn_one({"x": 1.0, "y": 0.0})  # weight 2, rate 1/2
    assert model.centres_original()[low].tolist() == [0.5, 0.0]
    model.learn_one({"x": 0.0, "y": 1.0})  # weight 3, rate 1/3
    assert model.centres_original()[low] == pytest.approx([1 / 3, 1 / 3], abs=1e-12)
    assert model.weights[low] == 3.0


def test_decay_fades_centres_that_receive_no_points() -> None:
    model = _two_corner_model(halflife=4.0)
    low, high = _index_of(model, [0.0, 0.0]), _index_of(model, [10.0, 10.0])

    model.learn_batch(np.array([[0.0, 0.0], [0.5, 0.0], [0.0, 0.5], [0.5, 0.5]]))

    assert model.weights[high] == 0.5  # 0.5 ** (4 points / half-life 4), untouched otherwise
    assert model.centres_original()[high].tolist() == [10.0, 10.0]
    assert model.weights[low] == 0.5 + 4


def test_before_initialisation_everything_is_segment_zero() -> None:
    model = MiniBatchKMeans(n_clusters=3, reservoir_size=10, features=["a", "b"])
    model.learn_batch(np.ones((4, 2)))
    assert not model.is_initialised
    assert model.predict_one({"a": 5.0, "b": 1.0}) == 0
    assert model.predict_many(np.ones((2, 2))).tolist() == [0, 0]
    assert model.distances(np.ones((2, 2))).tolist() == [[0.0] * 3] * 2


def test_initialisation_waits_for_the_reservoir_and_uses_the_rest_of_the_batch() -> None:
    model = MiniBatchKMeans(n_clusters=2, reservoir_size=3, halflife=float("inf"))
    model.learn_batch(np.array([[0.0], [10.0]]))
    assert not model.is_initialised
    model.learn_batch(
        np.array([[0.0], [10.0], [12.0]])
    )  # third point fills it; [10] and [12] follow
    assert model.is_initialised
    # Reservoir [0, 10, 0]: centres 0 (two points) and 10 (one); then 10 and 12 join the latter.
    assert sorted(model.centres_original()[:, 0].tolist()) == pytest.approx([0.0, 32 / 3])
    assert sorted(model.weights.tolist()) == [2.0, 3.0]


def _blob_stream(seed: int = 7) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    # Money-like and count-like columns on different scales, so the scaler has work to do.
    means = np.array(
        [[50.0, 1.0, 3.0, 10.0, 2.0], [400.0, 6.0, 3.0, 60.0, 30.0], [50.0, 1.0, 90.0, 5.0, 40.0]]
    )
    spread = np.array([15.0, 0.4, 2.0, 3.0, 3.0])
    labels = rng.permutation(np.repeat(np.arange(3), 1000))
    points = means[labels] + rng.normal(size=(labels.size, 5)) * spread
    return points, labels, means


def _inertia(points: np.ndarray, centres: np.ndarray) -> float:
    diff = points[:, None, :] - centres[None, :, :]
    return float((diff**2).sum(axis=2).min(axis=1).sum())


def _adjusted_rand_index(truth: np.ndarray, found: np.ndarray) -> float:
    table = np.zeros((truth.max() + 1, found.max() + 1))
    np.add.at(table, (truth, found), 1)
    pairs = comb(table, 2).sum()
    rows, cols = comb(table.sum(axis=1), 2).sum(), comb(table.sum(axis=0), 2).sum()
    expected = rows * cols / comb(truth.size, 2)
    return float((pairs - expected) / ((rows + cols) / 2 - expected))


def test_three_blobs_are_found_with_near_optimal_inertia() -> None:
    points, labels, _ = _blob_stream()
    model = MiniBatchKMeans(n_clusters=3)
    for start in range(0, len(points), 100):
        model.learn_batch(points[start : start + 100])

    # Reference: the best centres for the true partition are the blobs' own means.
    blob_means = np.array([points[labels == b].mean(axis=0) for b in range(3)])
    # Inertia in standardized units (what the model minimises), with the model's final scaler.
    scale = model.scaler.scale
    found = _inertia(points / scale, model.centres_original() / scale)
    best = _inertia(points / scale, blob_means / scale)
    assert found <= 1.05 * best
    assert _adjusted_rand_index(labels, model.predict_many(points)) > 0.99
    assert model.centre_ids == ["seg-1", "seg-2", "seg-3"]  # nothing starved, nothing reseeded


def test_same_seed_and_batches_give_identical_state() -> None:
    points, _, _ = _blob_stream()
    models = [MiniBatchKMeans(n_clusters=4, seed=s) for s in (5, 5, 6)]
    for model in models:
        for batch in np.array_split(points[:1200], 12):
            model.learn_batch(batch)
    assert models[0].state_dict() == models[1].state_dict()
    assert models[0].centres_original().tolist() != models[2].centres_original().tolist()


def test_initial_centres_come_from_the_data_not_from_noise() -> None:
    points, _, means = _blob_stream()
    model = MiniBatchKMeans(n_clusters=3, reservoir_size=256, halflife=float("inf"))
    model.learn_batch(points[:256])
    low, high = points[:256].min(axis=0), points[:256].max(axis=0)
    centres = model.centres_original()
    assert np.all((centres >= low) & (centres <= high))
    assert sorted(np.argmin(((centres[:, None] - means[None]) ** 2).sum(2), axis=1)) == [0, 1, 2]


def test_a_starved_centre_is_reseeded_on_a_recent_point_with_a_new_id() -> None:
    model = _two_corner_model(halflife=10.0, recent_size=10, seed=3)
    low = _index_of(model, [0.0, 0.0])
    high = 1 - low
    rng = np.random.default_rng(0)
    batches = [rng.normal(0.0, 0.5, size=(10, 2)) for _ in range(2)]

    model.learn_batch(batches[0])  # far centre: weight 0.5 vs 10.5, still alive
    assert model.centre_ids == ["seg-1", "seg-2"]
    model.learn_batch(batches[1])  # far centre: 0.25 < 0.02 * 15.25: starved

    assert model.centre_ids[low] == ["seg-1", "seg-2"][low]
    assert model.centre_ids[high] == "seg-3"
    assert model.centres_original()[high].tolist() in batches[1].tolist()
    assert model.weights[high] == pytest.approx(2 * 0.02 * model.weights[low])


def test_reseeded_ids_are_never_reused() -> None:
    model = _two_corner_model(halflife=10.0, recent_size=10)
    rng = np.random.default_rng(1)
    for _ in range(40):  # a single blob: one centre keeps starving and being reseeded
        model.learn_batch(rng.normal(0.0, 0.5, size=(10, 2)))
    numbers = [int(segment_id.split("-")[1]) for segment_id in model.centre_ids]
    assert max(numbers) > 3
    assert len(set(model.centre_ids)) == 2


def test_state_dict_round_trips_through_json_and_learning_continues_identically() -> None:
    points, _, _ = _blob_stream()
    model = MiniBatchKMeans(n_clusters=4, reservoir_size=64, halflife=500.0, recent_size=32)
    for batch in np.array_split(points[:600], 6):
        model.learn_batch(batch)

    state = model.state_dict()
    restored = MiniBatchKMeans.from_state_dict(json.loads(json.dumps(state)))
    assert restored.state_dict() == state
    for batch in np.array_split(points[600:1200], 6):
        model.learn_batch(batch)
        restored.learn_batch(batch)
    assert restored.state_dict() == model.state_dict()


def test_state_dict_round_trips_before_any_data_and_during_the_reservoir() -> None:
    empty = MiniBatchKMeans()
    assert MiniBatchKMeans.from_state_dict(empty.state_dict()).state_dict() == empty.state_dict()
    filling = MiniBatchKMeans(halflife=float("inf"), features=["a", "b"])
    filling.learn_batch(np.ones((5, 2)))
    text = json.dumps(filling.state_dict(), allow_nan=False)  # no Infinity in the JSON
    assert MiniBatchKMeans.from_state_dict(json.loads(text)).state_dict() == filling.state_dict()


def test_dict_features_are_learned_from_the_first_dict_and_missing_ones_are_zero() -> None:
    model = MiniBatchKMeans(n_clusters=1, reservoir_size=2, halflife=float("inf"))
    model.learn_one({"spend": 4.0, "visits": 2.0})
    model.learn_one({"visits": 4.0})
    assert model.feature_names == ("spend", "visits")
    assert model.centres_original().tolist() == [[2.0, 3.0]]


def test_a_model_trained_on_arrays_without_names_rejects_dicts() -> None:
    model = _two_corner_model()
    with pytest.raises(ValueError, match="features="):
        model.predict_one({"x": 1.0})
    with pytest.raises(ValueError, match="expected 2 features"):
        model.learn_batch(np.ones((1, 3)))


class _FakeFrame:
    """Just enough of a pandas DataFrame: named columns, selection, to_numpy."""

    def __init__(self, data: dict[str, list[float]]) -> None:
        self.data = data
        self.columns = list(data)

    def __getitem__(self, names: list[str]) -> _FakeFrame:
        return _FakeFrame({name: self.data[name] for name in names})

    def to_numpy(self, dtype: Any = None) -> np.ndarray:
        return np.array([self.data[name] for name in self.columns], dtype=dtype).T


def test_data_frames_are_read_by_column_name() -> None:
    model = MiniBatchKMeans(n_clusters=2, reservoir_size=2, features=["a", "b"])
    model.learn_many(_FakeFrame({"b": [0.0, 10.0], "a": [1.0, 1.0]}))
    assert sorted(model.centres_original().tolist()) == [[1.0, 0.0], [1.0, 10.0]]
    frame = _FakeFrame({"b": [9.0, 1.0], "a": [1.0, 1.0]})
    labels = model.predict_many(frame).tolist()
    assert labels == [_index_of(model, [1.0, 10.0]), _index_of(model, [1.0, 0.0])]


def test_river_compatibility() -> None:
    model = MiniBatchKMeans(n_clusters=3, seed=9, features=["a"])
    model.learn_batch(np.arange(300.0).reshape(-1, 1))
    assert isinstance(model, base.Clusterer)
    fresh = model.clone()
    assert fresh.seed == 9 and fresh.features == ("a",) and not fresh.is_initialised


@pytest.mark.parametrize(
    "params",
    [{"n_clusters": 0}, {"reservoir_size": 3}, {"dead_ratio": 1.0}, {"recent_size": 0}],
)
def test_bad_parameters_are_rejected(params: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        MiniBatchKMeans(**params)
