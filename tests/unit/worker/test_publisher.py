"""The publisher: change events keyed by customer, queued in order, dropped from the outbox once
Kafka has them."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Sequence
from typing import Any

import orjson

from streamapp.core.changes import ChangeNote
from streamapp.store.memory import MemoryProfileStore
from streamapp.worker.publisher import Publisher


class Sent:
    """A send function that records what it was given and acknowledges at once."""

    def __init__(self) -> None:
        self.records: list[tuple[str, bytes | None, bytes]] = []

    async def __call__(self, topic: str, rows: Sequence[tuple[bytes | None, bytes]],
                       ) -> Awaitable[Any]:
        self.records += [(topic, key, value) for key, value in rows]
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        done.set_result(None)
        return done


def _change(event_id: str, customer_id: str) -> bytes:
    return orjson.dumps({"event_id": event_id, "customer_id": customer_id})


async def test_changes_are_keyed_by_their_note_and_confirmed_in_the_outbox() -> None:
    store = MemoryProfileStore()
    store.outbox = {"e1": _change("e1", "u1"), "e2": _change("e2", "u2")}
    sent = Sent()
    publisher = Publisher(sent, store, "changes", "dlq")
    # The note, not the JSON, names the key: the worker keeps one beside each change it built.
    notes = {"e1": ChangeNote("noted", "cluster", 5)}
    await publisher.publish(dict(store.outbox), notes=notes)
    assert [(topic, key) for topic, key, _ in sent.records] == [
        ("changes", b"noted"), ("changes", b"u2")]
    assert store.outbox == {}


async def test_rejects_go_to_the_dlq_before_the_changes_of_their_batch() -> None:
    sent = Sent()
    publisher = Publisher(sent, MemoryProfileStore(), "changes", "dlq")
    await publisher.publish({"e1": _change("e1", "u1")}, [(b"raw-key", {"error": "bad"})])
    assert [(topic, key) for topic, key, _ in sent.records] == [
        ("dlq", b"raw-key"), ("changes", b"u1")]
