"""The batch pipeline on in-memory stores: idempotence, changes, the DLQ."""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
import pytest

from streamapp.core.clock import Watermark
from streamapp.core.model import MiniBatchKMeans
from streamapp.core.segmenter import Segmenter
from streamapp.pipeline.decode import KafkaRecord
from streamapp.pipeline.process import Pipeline
from streamapp.store.memory import MemoryProfileStore

DAY = 86_400


class MemoryModels:
    def __init__(self) -> None:
        self.state: dict[str, Any] | None = None

    async def load(self) -> dict[str, Any] | None:
        return self.state

    async def save(self, state: dict[str, Any]) -> None:
        self.state = state


def _pipeline(store: MemoryProfileStore) -> Pipeline:
    model = MiniBatchKMeans(n_clusters=3, reservoir_size=16, seed=3)
    return Pipeline(store, MemoryModels(), Segmenter(model, margin=0.1),
                    Watermark(mode="event", wall=lambda: 10**15), max_event_bytes=4096)


def _records(n: int, customers: int = 30) -> list[KafkaRecord]:
    out = []
    for i in range(n):
        customer = f"u{i % customers}"
        second = 1_767_225_600 + i * 3600
        if i % customers < 10:
            body = {"type": "track", "userId": customer, "event": "Order Completed",
                    "properties": {"revenue": 100 + i % 7}}
        else:
            body = {"type": "page", "userId": customer}
        body.update(messageId=f"m{i}", timestamp=f"{second}")
        out.append(KafkaRecord(customer.encode(), orjson.dumps(body), "in", 0, i, 0))
    return out


def test_a_redelivered_batch_changes_nothing() -> None:
    store = MemoryProfileStore()
    pipeline = _pipeline(store)
    records = _records(300)
    first = asyncio.run(pipeline.process(records))
    counters = {c: p.counters for c, p in store.profiles.items()}
    again = asyncio.run(pipeline.process(records))
    assert first.applied == 30 and again.applied == 0 and again.changes == {}
    assert {c: p.counters for c, p in store.profiles.items()} == counters
    assert store.profiles["u0"].counters.orders_total == 10


def test_every_customer_gets_a_segment_and_one_entered_event() -> None:
    store = MemoryProfileStore()
    outcome = asyncio.run(_pipeline(store).process(_records(300)))
    changes = [orjson.loads(v) for v in outcome.changes.values()]
    assert {c["customer_id"] for c in changes} == set(store.profiles)
    assert {c["change"] for c in changes} == {"entered"}
    assert sum(store.segment_counts.values()) == 30
    assert set(store.outbox) == set(outcome.changes)


def test_bad_records_are_rejected_and_the_rest_processed() -> None:
    store = MemoryProfileStore()
    bad = [KafkaRecord(b"x", b"\xff\xfe", "in", 0, 1000, 0),
           KafkaRecord(b"y", b'{"type":"bogus","userId":"y"}', "in", 0, 1001, 0),
           KafkaRecord(b"z", b"[" * 5000, "in", 0, 1002, 0)]
    outcome = asyncio.run(_pipeline(store).process(_records(60) + bad))
    assert [r[1]["error_type"] for r in outcome.rejects] == [
        "invalid_json", "invalid_event", "too_large"]
    assert [r[0] for r in outcome.rejects] == [b"x", b"y", b"z"]
    assert len(store.profiles) == 30


@pytest.mark.parametrize("retry_after", ["apply", "record"])
def test_a_crash_between_steps_still_assigns_the_segment(retry_after: str) -> None:
    store = MemoryProfileStore()
    pipeline = _pipeline(store)
    records = _records(300)
    original = store.record

    async def crash(*_: object) -> list[Any]:
        raise SystemExit("worker killed")

    store.record = crash  # type: ignore[method-assign]
    with pytest.raises(SystemExit):
        asyncio.run(pipeline.process(records))
    store.record = original  # type: ignore[method-assign]
    outcome = asyncio.run(pipeline.process(records))
    assert sum(store.segment_counts.values()) == 30
    assert len(outcome.changes) == 30
