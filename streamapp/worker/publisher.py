"""Publishing a batch's results: change events and DLQ records, batched, then confirmed."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

import orjson

from streamapp.core.changes import ChangeNote
from streamapp.store.profiles import Profiles

# (topic, [(key, value)]) -> once queued in order, an awaitable of the broker's acknowledgement
# of them all (``KafkaPublisher.queue_batches``)
SendFn = Callable[[str, Sequence[tuple[bytes | None, bytes]]], Awaitable[Awaitable[Any]]]


class Publisher:
    """Queues a batch's records for Kafka in batch order, then waits for their acknowledgement,
    so one batch's wait overlaps the next batch's work."""

    def __init__(self, send: SendFn, profiles: Profiles, changes_topic: str,
                 dlq_topic: str) -> None:
        self.send = send
        self.profiles = profiles
        self.changes_topic = changes_topic
        self.dlq_topic = dlq_topic
        # Held while records are queued, and by the drain while it reads and publishes the
        # outbox: whichever of a batch and the drain publishes an entry first, the other knows.
        self.lock = asyncio.Lock()
        # Queued batches whose changes are not confirmed in the outbox yet: the drain waits for
        # them, or it would find their entries there and publish them a second time.
        self._unconfirmed = 0
        self._settled = asyncio.Event()
        self._settled.set()
        # event_ids the last drains published: a batch whose changes the drain found in the
        # outbox before the batch got to them does not publish them a second time.
        self._drained: deque[set[str]] = deque(maxlen=3)

    async def queue(self, changes: Mapping[str, bytes],
                    rejects: Sequence[tuple[bytes | None, dict[str, Any]]] = (),
                    notes: Mapping[str, ChangeNote] | None = None,
                    ) -> asyncio.Future[None]:
        """Queue DLQ records (keyed by the original record's key) and change events (event_id
        -> JSON, keyed by customer id, from ``notes`` where it has them) behind everything
        queued before; return a future that is done once Kafka has acknowledged them all and
        the changes are dropped from the outbox."""
        async with self.lock:
            return await self._queue(changes, rejects, notes or {})

    async def publish(self, changes: Mapping[str, bytes],
                      rejects: Sequence[tuple[bytes | None, dict[str, Any]]] = (),
                      notes: Mapping[str, ChangeNote] | None = None) -> None:
        """Publish DLQ records and change events, then drop the changes from the outbox."""
        await (await self.queue(changes, rejects, notes))

    async def drain_outbox(self) -> int:
        """Publish whatever a previous run recorded but did not confirm; return how many."""
        async with self.lock:
            await self._settled.wait()
            pending = await self.profiles.pending_changes()
            await (await self._queue(pending, (), {}))
            if pending:
                self._drained.append(set(pending))
            return len(pending)

    async def _queue(self, changes: Mapping[str, bytes],
                     rejects: Sequence[tuple[bytes | None, dict[str, Any]]],
                     notes: Mapping[str, ChangeNote]) -> asyncio.Future[None]:
        if self._drained:
            changes = {k: v for k, v in changes.items()
                       if not any(k in drained for drained in self._drained)}
        acks = []
        if rejects:
            acks.append(await self.send(
                self.dlq_topic, [(key, orjson.dumps(value)) for key, value in rejects]))
        if changes:
            acks.append(await self.send(
                self.changes_topic,
                [(_customer_id(event_id, value, notes).encode(), value)
                 for event_id, value in changes.items()]))
        self._unconfirmed += 1
        self._settled.clear()
        # A task, not a coroutine: the drain waits for it whether or not anyone awaits it.
        return asyncio.ensure_future(self._confirm(acks, list(changes)))

    async def _confirm(self, acks: Sequence[Awaitable[Any]], event_ids: Sequence[str]) -> None:
        try:
            for ack in acks:
                await ack
            await self.profiles.confirm_published(event_ids)
        finally:
            self._unconfirmed -= 1
            if not self._unconfirmed:
                self._settled.set()


def _customer_id(event_id: str, change: bytes, notes: Mapping[str, ChangeNote]) -> str:
    note = notes.get(event_id)
    return note.customer_id if note is not None else str(orjson.loads(change)["customer_id"])
