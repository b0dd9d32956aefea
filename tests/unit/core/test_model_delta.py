"""Deltas: learn_batch is apply_delta(delta_for(...)), and deltas merge like the shared store."""

from __future__ import annotations

import asyncio

import numpy as np

from streamapp.core.model import MiniBatchKMeans
from streamapp.store.model_state import MemoryModelStore


def _stream(n: int = 4000) -> np.ndarray:
    rng = np.random.default_rng(2)
    means = np.array([[0.0, 0.0, 1.0], [3.0, 1.0, 0.0], [1.0, 4.0, 2.0]])
    return np.asarray(means[rng.integers(0, 3, n)] + rng.normal(0, 0.3, (n, 3)))


def _model() -> MiniBatchKMeans:
    model = MiniBatchKMeans(n_clusters=3, halflife=800.0, reservoir_size=64, seed=4)
    model.record_deltas = True
    return model


def test_a_delta_changes_nothing_until_applied() -> None:
    model = _model()
    model.learn_batch(_stream()[:200])
    before = model.state_dict()
    delta = model.delta_for(_stream()[200:300])
    assert model.state_dict() == before
    assert delta.counts.sum() == 100 and delta.learned == 100 and delta.points == 100


def test_a_delta_for_a_reseeded_slot_leaves_that_slot_alone() -> None:
    model = _model()
    model.learn_batch(_stream()[:200])
    delta = model.delta_for(_stream()[200:300])
    model.centre_ids[0] = "seg-99"  # another worker reseeded slot 0 meanwhile
    weight, centre = model.weights[0], model.centres_original()[0].copy()
    model.apply_delta(delta)
    assert model.centres_original()[0].tolist() == centre.tolist()
    assert model.weights[0] == weight * 0.5 ** (100 / 800.0)


def test_two_workers_merging_into_a_store_agree_with_the_store() -> None:
    store = MemoryModelStore()
    workers = [_model(), _model()]
    for index, batch in enumerate(np.array_split(_stream(), 20)):
        worker = workers[index % 2]
        worker.learn_batch(batch)
        asyncio.run(store.save(worker))
        assert worker.pending == []
    assert store.shared is not None and store.shared.version == 20
    # The last worker to merge holds exactly the shared state.
    assert workers[1].state_dict()["centres"] == store.shared.state_dict()["centres"]


def test_deltas_are_json_ready() -> None:
    import json

    model = _model()
    model.learn_batch(_stream()[:300])
    assert json.loads(json.dumps(model.pending[0].to_json()))["points"] == 300


def test_packed_rows_are_the_reservoir_rows_then_the_recent_rows() -> None:
    model = MiniBatchKMeans(n_clusters=3, reservoir_size=64, recent_size=50, seed=4,
                            features=["a", "b", "c"])
    points = _stream()[:100]
    delta = model.delta_for(points)
    body = delta.to_json()
    rows = np.frombuffer(delta.packed_rows(), "<f8").reshape(-1, 3)
    assert (body["reservoir_rows"], body["recent_rows"]) == (64, 50)
    assert rows.tolist() == np.vstack([points[:64], points[-50:]]).tolist()
