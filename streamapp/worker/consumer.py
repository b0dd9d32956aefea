"""Reading the input topic in whole batches, and committing only what reached Kafka downstream.

The worker reads ``customer-events`` with aiokafka's ``getmany`` instead of a Faust stream: a
Faust stream hands records over one at a time (a message, an event, two tasks and an ack each),
which on a 2-core machine cost as much time per event as the worker's whole batch step
(docs/BENCHMARKS.md). Faust still runs the process: its web server, timers and shutdown. The
consumer is in the app's consumer group (the app id), so offsets committed by a Faust-consumed
version carry over.

At least once, as before: a partition's offset is committed only past batches whose change
events are in Kafka (``OffsetLedger``); a worker killed at any moment leaves the rest to be read
again, and applying an event twice is a no-op (DESIGN.md, invariant 2).
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from typing import Any

from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, TopicPartition
from aiokafka.errors import KafkaError
from mode import Service

from streamapp.kafka.connect import start_client
from streamapp.pipeline.decode import KafkaRecord
from streamapp.pipeline.process import DecodedBatch
from streamapp.security import kafka_client_kwargs
from streamapp.settings import Settings
from streamapp.worker.runtime import FLUSH_SECONDS, Runtime

log = logging.getLogger("streamapp.worker")
COMMIT_SECONDS = 1.0
CONNECT_SECONDS = 30.0
# How long an idle ``getmany`` waits before the loop looks at ``should_stop`` again.
IDLE_POLL_MS = 200
# Batches waiting for Kafka's acknowledgement at once, before the next one waits for the oldest.
PUBLISHING_BATCHES = 4
# aiokafka fetches a partition again only once its fetched records are taken: records that reached
# the broker during the last batch are one fetch away. Waiting this long for that fetch takes them
# into this batch rather than the one after it.
FRESH_MS = 5


class OffsetLedger:
    """Per partition, the next offset to read once everything before it was published.

    >>> ledger = OffsetLedger()
    >>> ledger.finished({("t", 0): 41, ("t", 1): 7})
    >>> ledger.finished({("t", 0): 44})
    >>> ledger.due([("t", 0), ("t", 1)])
    {('t', 0): 45, ('t', 1): 8}
    >>> ledger.committed({('t', 0): 45, ('t', 1): 8})
    >>> ledger.due([("t", 0), ("t", 1)])
    {}

    Only assigned partitions are committed: a revoked one's offsets belong to its new owner.

    >>> ledger.finished({("t", 2): 3})
    >>> ledger.due([("t", 0)])
    {}
    >>> ledger.forget([("t", 2)])
    >>> ledger.due([("t", 2)])
    {}
    """

    def __init__(self) -> None:
        self._next: dict[Any, int] = {}
        self._committed: dict[Any, int] = {}

    def finished(self, last_offsets: Mapping[Any, int]) -> None:
        """Record a published batch by the last offset it held of each partition."""
        for tp, offset in last_offsets.items():
            self._next[tp] = max(self._next.get(tp, 0), offset + 1)

    def due(self, assigned: Iterable[Any]) -> dict[Any, int]:
        """The offsets to commit now: assigned partitions that moved since their last commit."""
        return {tp: self._next[tp] for tp in assigned
                if tp in self._next and self._committed.get(tp) != self._next[tp]}

    def committed(self, offsets: Mapping[Any, int]) -> None:
        self._committed.update(offsets)

    def forget(self, partitions: Iterable[Any]) -> None:
        for tp in partitions:
            self._next.pop(tp, None)
            self._committed.pop(tp, None)


def last_offsets(records: Sequence[KafkaRecord]) -> dict[TopicPartition, int]:
    """The highest offset of each partition among ``records``.

    >>> last_offsets([KafkaRecord(b"k", b"v", "t", 0, 5, 0), KafkaRecord(b"k", b"v", "t", 0, 9, 0)])
    {TopicPartition(topic='t', partition=0): 9}
    """
    last: dict[TopicPartition, int] = {}
    for record in records:
        tp = TopicPartition(record.topic, record.partition)
        last[tp] = max(last.get(tp, -1), record.offset)
    return last


class BatchConsumer(Service, ConsumerRebalanceListener):  # type: ignore[misc]  # mode is untyped
    """Reads batches of up to ``settings.batch_size`` events (see ``_take``), hands them to the
    runtime, and commits what was published every second, at a rebalance and at a clean stop."""

    def __init__(self, settings: Settings, runtime: Callable[[], Awaitable[Runtime]], *,
                 closing: Callable[[], Awaitable[None]] | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.settings = settings
        self._runtime = runtime
        self._closing = closing  # what to close once the last batch is out (the producer)
        self.ledger = OffsetLedger()
        self.consumer: AIOKafkaConsumer | None = None
        self.runtime: Runtime | None = None
        self._busy = asyncio.Lock()  # held while a batch is begun, so a rebalance waits for it
        self._publishing: deque[asyncio.Future[None]] = deque()  # oldest first

    def assignment(self) -> set[TopicPartition]:
        """The partitions this worker reads now; empty before the group has formed."""
        return set(self.consumer.assignment()) if self.consumer is not None else set()

    async def on_start(self) -> None:
        # Connected before joining the group: partitions are not held while they cannot be read.
        self.runtime = await self._runtime()
        security = kafka_client_kwargs(self.settings)
        self.consumer = AIOKafkaConsumer(
            bootstrap_servers=self.settings.kafka_bootstrap, group_id=self.settings.app_id,
            client_id=self.settings.app_id, enable_auto_commit=False,
            auto_offset_reset="earliest", **security)
        self.consumer.subscribe([self.settings.events_topic], listener=self)
        await start_client(self.consumer, self.settings.kafka_bootstrap, security,
                           CONNECT_SECONDS)

    async def on_stop(self) -> None:
        # Wait for the batch being begun and the one being published, then commit them: a clean
        # stop leaves nothing to read twice.
        async with self._busy:
            await self._settle()
            await self.commit()
            if self.runtime is not None:
                await self.runtime.flush()
            if self.consumer is not None:
                await self.consumer.stop()
            if self._closing is not None:
                await self._closing()

    @Service.task
    async def _consume(self) -> None:
        beginning: asyncio.Future[None] | None = None  # the batch being begun
        try:
            while not self.should_stop:
                records = await self._take(beginning)
                if beginning is not None and beginning.done():
                    beginning.result()  # raises a failed batch's error
                if not records:
                    continue
                assert self.runtime is not None  # set by on_start, before any batch
                # Decoded while the batch before waits for Redis, whose time it would otherwise
                # add to this batch's; begun only once that one is, so Redis sees them in order.
                batch = self.runtime.prepare(records)
                if beginning is not None:
                    await beginning
                    records, batch = await self._top_up(records, batch)
                beginning = asyncio.ensure_future(self._handle(records, batch))
                # Let it reach Redis before the next batch is taken: taking does not always
                # wait, and the decoding after it would hold this batch's first call back.
                await asyncio.sleep(0)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            # The supervisor starts the process again; what was not committed is read again.
            await self.crash(exc)

    @Service.timer(COMMIT_SECONDS)
    async def _commit_periodically(self) -> None:
        await self.commit()

    @Service.timer(FLUSH_SECONDS)
    async def _flush_periodically(self) -> None:
        if self.runtime is not None:
            await self.runtime.flush()

    async def _take(self, beginning: asyncio.Future[None] | None = None) -> list[KafkaRecord]:
        """Up to ``batch_size`` records. Records fetched while the last batch was processed are
        taken at once, with what one more fetch brings (``FRESH_MS``): they have waited already,
        and the batch they make is as large as the load is. Otherwise the first record to
        arrive is waited for, and ``batch_window`` for more to join it; not while a batch is
        being begun (``beginning``): what arrives until it is joins at ``_top_up``, and the
        window would only hold the next batch back once the worker is free."""
        assert self.consumer is not None
        size, window = self.settings.batch_size, self.settings.batch_window
        records = _records(await self.consumer.getmany(timeout_ms=0, max_records=size))
        if records:
            if len(records) < size:
                records += _records(await self.consumer.getmany(
                    timeout_ms=FRESH_MS, max_records=size - len(records)))
            return records
        records = _records(await self.consumer.getmany(timeout_ms=IDLE_POLL_MS,
                                                       max_records=size))
        if beginning is not None and not beginning.done():
            return records
        deadline = time.monotonic() + window
        while records and len(records) < size and not self.should_stop:
            wait = (deadline - time.monotonic()) * 1000
            if wait <= 0:
                break
            # Rounded up: a zero timeout returns without yielding to the event loop, so the last
            # millisecond of the window became a busy loop (18 polls a batch at half load) that
            # held the batch being begun back.
            records += _records(await self.consumer.getmany(timeout_ms=math.ceil(wait),
                                                            max_records=size - len(records)))
        return records

    async def _top_up(self, records: list[KafkaRecord], batch: DecodedBatch,
                      ) -> tuple[list[KafkaRecord], DecodedBatch]:
        """Add to a batch what was fetched while the batch before it was begun. The batch was
        taken a few milliseconds into that one; without this, what arrived in the rest of it
        would wait for the batch after this one."""
        assert self.consumer is not None and self.runtime is not None
        room = self.settings.batch_size - len(records)
        more = _records(await self.consumer.getmany(timeout_ms=0, max_records=room)) if room else []
        if not more:
            return records, batch
        return records + more, self.runtime.prepare_more(batch, more)

    async def _handle(self, records: list[KafkaRecord], batch: DecodedBatch | None = None,
                      ) -> None:
        """Begin a batch (``batch``: what the runtime's ``prepare`` made of ``records``)."""
        async with self._busy:
            if self.should_stop:
                return  # not committed: the next owner reads it
            assert self.runtime is not None  # set by on_start, before any batch
            rest = await self.runtime.begin(batch if batch is not None else records)
            # Batches wait for Kafka's acknowledgement while the next ones are processed; their
            # records were queued in order, so a customer's change events keep their order.
            while self._publishing and (self._publishing[0].done()
                                        or len(self._publishing) >= PUBLISHING_BATCHES):
                await self._publishing.popleft()  # raises a failed batch's error
            previous = self._publishing[-1] if self._publishing else None
            finishing = asyncio.ensure_future(
                self._finish(rest, previous, last_offsets(records)))
            finishing.add_done_callback(_log_failure)
            self._publishing.append(finishing)

    async def _finish(self, rest: Awaitable[None], previous: asyncio.Future[None] | None,
                      last: Mapping[TopicPartition, int]) -> None:
        await rest
        if previous is not None:
            # Offsets are done in batch order: not past a batch still waiting, or one that failed.
            await previous
        self.ledger.finished(last)

    async def _settle(self) -> None:
        """Wait for the batches being published; a failure was logged and is raised by the
        loop at its next batch."""
        if self._publishing:
            await asyncio.wait([self._publishing[-1]])

    async def commit(self) -> None:
        """Commit the published offsets of the assigned partitions; a failed commit is retried
        at the next one (until then those events would only be read again)."""
        if self.consumer is None:
            return
        offsets = self.ledger.due(self.assignment())
        if not offsets:
            return
        try:
            await self.consumer.commit(offsets)
        except KafkaError as exc:
            log.warning("committing offsets failed, retried in %.0f s: %r", COMMIT_SECONDS, exc)
            return
        self.ledger.committed(offsets)

    async def on_partitions_revoked(self, revoked: list[TopicPartition]) -> None:
        # Before the partitions move: finish what was read from them and commit it, so their
        # next owner does not read it again.
        async with self._busy:
            await self._settle()
            await self.commit()
        self.ledger.forget(revoked)

    async def on_partitions_assigned(self, assigned: list[TopicPartition]) -> None:
        log.info("reading %d partitions of %s", len(assigned), self.settings.events_topic)


def _log_failure(task: asyncio.Future[None]) -> None:
    # Raised again in the loop at its next batch; logged here too, for a stream gone quiet.
    if not task.cancelled() and task.exception() is not None:
        log.error("publishing a batch failed: %r", task.exception())


def _records(fetched: Mapping[TopicPartition, Sequence[Any]]) -> list[KafkaRecord]:
    return [_record(message) for messages in fetched.values() for message in messages]


def _record(message: Any) -> KafkaRecord:
    return KafkaRecord(message.key, message.value, message.topic, message.partition,
                       message.offset, message.timestamp or 0)
