"""The model shared through Redis: workers merge deltas atomically and agree on the centres.

Runs against the real Redis at STREAMAPP_REDIS_URL (default redis://127.0.0.1:6379/0); a Redis
that does not answer fails these tests, it never skips them.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator

import numpy as np
import pytest
import pytest_asyncio
from redis.asyncio import Redis

from streamapp.core.model import MiniBatchKMeans
from streamapp.store.keys import Keys
from streamapp.store.model_state import ModelStore

pytestmark = pytest.mark.integration

REDIS_URL = os.environ.get("STREAMAPP_REDIS_URL", "redis://127.0.0.1:6379/0")
# Two workers see the same points but assign each batch against centres that lack the other
# worker's last batch, so they take slightly different steps; on this stream the centres end
# within this distance (standardized units) of those of one worker fed everything.
TOLERANCE = 0.02


@pytest_asyncio.fixture
async def store() -> AsyncIterator[ModelStore]:
    redis = Redis.from_url(REDIS_URL, socket_connect_timeout=5, socket_timeout=10)
    try:
        await redis.ping()
    except Exception as exc:
        pytest.fail(f"Redis at {REDIS_URL} did not answer ({exc}): start it or set "
                    "STREAMAPP_REDIS_URL")
    model_store = ModelStore(redis, Keys(f"it-model-{uuid.uuid4().hex[:10]}"))
    yield model_store
    await redis.delete(*model_store.keys)
    await redis.aclose()


def _stream(seed: int = 11, n: int = 12_000) -> np.ndarray:
    rng = np.random.default_rng(seed)
    means = np.array([[1.0, 0.5, 3.0], [4.0, 2.0, 1.0], [0.0, 0.0, 0.5], [3.0, 1.0, 4.0]])
    labels = rng.integers(0, len(means), n)
    return np.asarray(means[labels] + rng.normal(0.0, 0.3, size=(n, 3)))


def _model() -> MiniBatchKMeans:
    model = MiniBatchKMeans(n_clusters=4, halflife=3000.0, reservoir_size=128, seed=5)
    model.record_deltas = True
    return model


async def _feed(store: ModelStore, model: MiniBatchKMeans, batches: list[np.ndarray]) -> None:
    for batch in batches:
        model.learn_batch(batch)
        await store.save(model)
        await asyncio.sleep(0)  # let the other worker interleave, as separate processes would


async def test_one_worker_through_redis_learns_exactly_what_it_learns_alone(
    store: ModelStore,
) -> None:
    alone, shared = _model(), _model()
    for batch in np.array_split(_stream(), 40):
        alone.learn_batch(batch)
        await _feed(store, shared, [batch])
    state = await store.load()
    assert state is not None
    restored = MiniBatchKMeans.from_state_dict(state)
    assert restored.centres_original().tolist() == alone.centres_original().tolist()
    assert restored.weights.tolist() == alone.weights.tolist()
    assert restored.scaler.state_dict() == alone.scaler.state_dict()
    assert restored.version == alone.version == 40


async def test_two_workers_fed_disjoint_halves_end_with_the_centres_of_one_worker(
    store: ModelStore,
) -> None:
    batches = np.array_split(_stream(), 60)
    alone = _model()
    for batch in batches:
        alone.learn_batch(batch)
    first, second = _model(), _model()
    await asyncio.gather(_feed(store, first, batches[0::2]), _feed(store, second, batches[1::2]))

    state = await store.load()
    assert state is not None
    merged = MiniBatchKMeans.from_state_dict(state)
    assert merged.version == 60 and merged.seen == alone.seen == 12_000
    scale = alone.scaler.scale
    # Pair centres by nearest (the warm start may differ in slot order, never in place).
    distance = np.sqrt((((merged.centres_original()[:, None] - alone.centres_original()[None])
                         / scale) ** 2).sum(axis=2))
    assert sorted(distance.argmin(axis=1).tolist()) == [0, 1, 2, 3]
    assert distance.min(axis=1).max() < TOLERANCE
    # The worker that started second had its first batch go to a reservoir the other worker had
    # already turned into centres: those points count for the scaler only, hence not exact.
    assert merged.weights.sum() == pytest.approx(alone.weights.sum(), rel=0.01)


async def test_a_worker_refreshes_its_centres_when_another_one_merged(store: ModelStore) -> None:
    batches = np.array_split(_stream(), 20)
    first, second = _model(), _model()
    await _feed(store, first, batches[:10])
    await _feed(store, second, batches[10:12])  # second starts empty: refreshed at once
    assert second.version == 12 and second.is_initialised
    await _feed(store, first, batches[12:13])
    state = await store.load()
    assert state is not None
    assert first.version == 13
    assert first.centres_original().tolist() == state["centres"]


async def test_a_retried_merge_is_applied_once(store: ModelStore) -> None:
    model = _model()
    model.learn_batch(_stream()[:500])
    delta = model.pending[0]
    await store.save(model)
    model.pending.append(delta)  # the reply was lost and the caller retries
    await store.save(model)
    state = await store.load()
    assert state is not None and state["version"] == 1 and state["seen"] == 500


def _text(row: np.ndarray) -> str:
    return ",".join(f"{value:.17g}" for value in row.tolist())


async def test_points_are_stored_as_17_digit_text_newest_first(store: ModelStore) -> None:
    model = MiniBatchKMeans(n_clusters=2, reservoir_size=50, recent_size=40, seed=1)
    model.record_deltas = True
    points = _stream(n=130)
    model.learn_batch(points[:30])
    await store.save(model)
    reservoir = await store.redis.lrange(store.reservoir_key, 0, -1)
    assert [row.decode() for row in reservoir] == [_text(row) for row in points[:30]]
    # Several deltas in one merge, with more points than the list keeps.
    for batch in np.array_split(points[30:], 4):
        model.learn_batch(batch)
    await store.save(model)
    recent = await store.redis.lrange(store.recent_key, 0, -1)
    assert [row.decode() for row in recent] == [_text(row) for row in points[::-1][:40]]
    assert not await store.redis.exists(store.reservoir_key)
