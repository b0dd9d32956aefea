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
from streamapp.pipeline.overlap import Milestones
from streamapp.pipeline.process import Pipeline, overlappable
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


class GatedStore(MemoryProfileStore):
    """Records only once ``gate`` is open, as a batch waits for Redis; logs each call."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = asyncio.Event()
        self.gate.set()
        self.calls: list[str] = []

    async def apply(self, groups: Any, trait_names: Any = (), busy: Any = ()) -> Any:
        applied = await super().apply(groups, trait_names, busy)
        self.calls.append(f"apply {','.join(groups)}{' (busy)' if applied is None else ''}")
        return applied

    async def record(self, records: Any) -> Any:
        await self.gate.wait()
        self.calls.append(f"record {','.join(r.customer_id for r in records)}")
        return await super().record(records)


def _published(outcome: Any) -> dict[str, Any]:
    """Change events as published, less the wall-clock time they were emitted at."""
    return {event_id: {k: v for k, v in orjson.loads(change).items() if k != "emitted_at"}
            for event_id, change in outcome.changes.items()}


async def _overlapped(pipeline: Pipeline, batches: list[list[KafkaRecord]]) -> list[Any]:
    """Assign ``batches`` as the worker does: each applied as soon as the one before allows."""
    tasks, marks, before = [], None, None
    for records in batches:
        decoded = pipeline.decode(records)
        if marks is not None:
            assert before is not None and overlappable(before, decoded)
            await marks.follow()
        following = Milestones(before=marks)
        tasks.append(asyncio.ensure_future(pipeline.assign(decoded, following, marks)))
        marks, before = following, decoded
        await asyncio.sleep(0)
    return list(await asyncio.gather(*tasks))


def test_overlapped_batches_store_and_publish_what_batches_one_after_another_do() -> None:
    # Ten customers per batch, the next ten in the next one: neighbours share no customer.
    batches = [_records(300)[i:i + 10] for i in range(0, 300, 10)]
    one_by_one, overlapped = MemoryProfileStore(), MemoryProfileStore()

    async def run_one_by_one() -> list[Any]:
        pipeline = _pipeline(one_by_one)
        return [await pipeline.assign(records) for records in batches]

    outcomes = asyncio.run(run_one_by_one())
    outcomes_overlapped = asyncio.run(_overlapped(_pipeline(overlapped), batches))
    assert [_published(o) for o in outcomes_overlapped] == [_published(o) for o in outcomes]
    assert overlapped.profiles == one_by_one.profiles
    assert overlapped.segment_counts == one_by_one.segment_counts
    assert sum(one_by_one.segment_counts.values()) == 30  # the model placed everyone


def test_a_batch_whose_customer_is_stored_under_the_one_before_is_applied_after_its_record(
) -> None:
    store = GatedStore()
    store.aliases["anon-7"] = "u1"  # an earlier merge: anon-7's events go to u1's profile

    def event(customer: str, offset: int) -> KafkaRecord:
        body = {"type": "page", "userId": customer, "messageId": f"m{offset}",
                "timestamp": f"{1_767_225_600 + offset}"}
        return KafkaRecord(customer.encode(), orjson.dumps(body), "in", 0, offset, 0)

    async def run() -> list[Any]:
        store.gate.clear()
        assigning = asyncio.ensure_future(_overlapped(_pipeline(store),
                                                      [[event("u1", 1)], [event("anon-7", 2)]]))
        await asyncio.sleep(0.01)
        store.gate.set()
        return await assigning

    first, second = asyncio.run(run())
    assert store.calls == ["apply u1", "apply anon-7 (busy)", "record u1", "apply anon-7",
                           "record u1"]
    assert first.applied == second.applied == 1
    assert store.profiles["u1"].counters.events_total == 2
    assert "anon-7" not in store.profiles
