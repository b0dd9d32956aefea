"""Publishing a batch's results: change events and DLQ records, batched, then confirmed."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

import orjson

from streamapp.store.profiles import Profiles

# (topic, [(key, value)]) -> once queued in order, an awaitable of the broker's acknowledgement
# of them all (``KafkaPublisher.queue_batches``)
SendFn = Callable[[str, Sequence[tuple[bytes | None, bytes]]], Awaitable[Awaitable[Any]]]


class Publisher:
    """Sends records without awaiting each one, then waits for all of them at once."""

    def __init__(self, send: SendFn, profiles: Profiles, changes_topic: str,
                 dlq_topic: str) -> None:
        self.send = send
        self.profiles = profiles
        self.changes_topic = changes_topic
        self.dlq_topic = dlq_topic
        # Held while changes are on their way to Kafka; with it, whichever of a batch and the
        # periodic drain publishes an entry first, the other one knows.
        self.lock = asyncio.Lock()
        # event_ids the last drains published: a batch whose changes the drain found in the
        # outbox before the batch got to them does not publish them a second time.
        self._drained: deque[set[str]] = deque(maxlen=3)

    async def publish_changes(self, changes: Mapping[str, bytes]) -> None:
        """Publish change events (event_id -> JSON), then drop them from the outbox."""
        if self._drained:
            changes = {k: v for k, v in changes.items()
                       if not any(k in drained for drained in self._drained)}
        if not changes:
            return
        records = [(orjson.loads(value)["customer_id"].encode(), value)
                   for value in changes.values()]
        await (await self.send(self.changes_topic, records))
        await self.profiles.confirm_published(list(changes))

    async def publish_rejects(self, rejects: Sequence[tuple[bytes | None, dict[str, Any]]]) -> None:
        """Publish DLQ records keyed by the original record's key."""
        if rejects:
            records = [(key, orjson.dumps(value)) for key, value in rejects]
            await (await self.send(self.dlq_topic, records))

    async def drain_outbox(self) -> int:
        """Publish whatever a previous run recorded but did not confirm; return how many."""
        async with self.lock:
            pending = await self.profiles.pending_changes()
            await self.publish_changes(pending)
            if pending:
                self._drained.append(set(pending))
            return len(pending)
