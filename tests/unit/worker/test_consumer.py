"""The batch consumer: batches by size and window, commits only what was published."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from types import SimpleNamespace
from typing import Any

from aiokafka import TopicPartition

from streamapp.pipeline.decode import KafkaRecord
from streamapp.settings import Settings
from streamapp.worker.consumer import BatchConsumer

TP0, TP1 = TopicPartition("events", 0), TopicPartition("events", 1)


class FakeKafka:
    """aiokafka's consumer as the batch consumer uses it: records arrive in ``pending``."""

    def __init__(self) -> None:
        self.pending: list[tuple[TopicPartition, int]] = []
        self.commits: list[dict[TopicPartition, int]] = []
        self.assigned = {TP0, TP1}
        self.polls = 0

    def assignment(self) -> set[TopicPartition]:
        return set(self.assigned)

    async def getmany(self, timeout_ms: int, max_records: int) -> dict[TopicPartition, list[Any]]:
        # As aiokafka does: return as soon as records arrive, or empty-handed at the timeout;
        # a zero timeout returns without yielding to the event loop.
        self.polls += 1
        deadline = asyncio.get_running_loop().time() + timeout_ms / 1000
        while not self.pending and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.002)
        if not self.pending:
            return {}
        taken, self.pending = self.pending[:max_records], self.pending[max_records:]
        fetched: dict[TopicPartition, list[Any]] = {}
        for tp, offset in taken:
            fetched.setdefault(tp, []).append(SimpleNamespace(
                key=b"k", value=b"v", topic=tp.topic, partition=tp.partition, offset=offset,
                timestamp=0))
        return fetched

    async def commit(self, offsets: dict[TopicPartition, int]) -> None:
        self.commits.append(dict(offsets))


class SlowRuntime:
    """Begins at once; publishing waits until ``published`` is set."""

    def __init__(self) -> None:
        self.published = asyncio.Event()
        self.batches: list[list[KafkaRecord]] = []

    async def begin(self, records: list[KafkaRecord]) -> Coroutine[Any, Any, None]:
        self.batches.append(records)
        return self.published.wait()


def _consumer(kafka: FakeKafka, runtime: SlowRuntime, size: int = 3,
              window: float = 0.05) -> BatchConsumer:
    settings = Settings(_env_file=None, batch_size=size, batch_window=window)

    async def get_runtime() -> Any:
        return runtime

    batches = BatchConsumer(settings, get_runtime)
    batches.consumer = kafka  # type: ignore[assignment]
    batches.runtime = runtime  # type: ignore[assignment]
    return batches


def test_a_batch_holds_at_most_batch_size_records() -> None:
    async def run() -> list[int]:
        kafka = FakeKafka()
        kafka.pending = [(TP0, n) for n in range(7)]
        batches = _consumer(kafka, SlowRuntime(), size=3)
        return [len(await batches._take()) for _ in range(3)]

    assert asyncio.run(run()) == [3, 3, 1]


def test_records_that_arrive_while_idle_wait_the_window_for_more() -> None:
    async def run() -> int:
        kafka = FakeKafka()
        batches = _consumer(kafka, SlowRuntime(), size=3, window=0.2)

        async def later() -> None:
            await asyncio.sleep(0.01)
            kafka.pending.append((TP0, 0))
            await asyncio.sleep(0.03)
            kafka.pending.append((TP1, 0))

        arriving = asyncio.ensure_future(later())
        taken = await batches._take()
        await arriving
        return len(taken)

    assert asyncio.run(run()) == 2


def test_the_window_is_waited_out_without_polling_in_a_busy_loop() -> None:
    async def run() -> int:
        kafka = FakeKafka()
        batches = _consumer(kafka, SlowRuntime(), size=3, window=0.05)

        async def first() -> None:
            await asyncio.sleep(0.001)
            kafka.pending.append((TP0, 0))

        arriving = asyncio.ensure_future(first())
        await batches._take()
        await arriving
        return kafka.polls

    # One poll for what is waiting, one for the first record, then the window in a few waits.
    assert asyncio.run(run()) <= 6


def test_records_already_waiting_are_taken_without_the_window() -> None:
    async def run() -> tuple[int, float]:
        kafka = FakeKafka()
        kafka.pending = [(TP0, 0)]
        batches = _consumer(kafka, SlowRuntime(), size=3, window=5.0)
        began = asyncio.get_running_loop().time()
        taken = await batches._take()
        return len(taken), asyncio.get_running_loop().time() - began

    taken, seconds = asyncio.run(run())
    assert taken == 1
    assert seconds < 1.0  # not the 5 s window


def test_offsets_are_committed_only_after_publishing() -> None:
    async def run() -> list[dict[TopicPartition, int]]:
        kafka, runtime = FakeKafka(), SlowRuntime()
        batches = _consumer(kafka, runtime)
        kafka.pending = [(TP0, 4), (TP1, 9)]
        await batches._handle(await batches._take())
        await batches.commit()
        assert kafka.commits == []  # applied, but its change events are not in Kafka yet
        runtime.published.set()
        await batches._settle()
        await batches.commit()
        await batches.commit()  # nothing new: nothing sent
        return kafka.commits

    assert asyncio.run(run()) == [{TP0: 5, TP1: 10}]


def test_a_revocation_waits_for_publishing_then_commits_and_forgets() -> None:
    async def run() -> tuple[list[dict[TopicPartition, int]], dict[Any, int]]:
        kafka, runtime = FakeKafka(), SlowRuntime()
        batches = _consumer(kafka, runtime)
        kafka.pending = [(TP0, 0), (TP1, 0)]
        await batches._handle(await batches._take())
        revoking = asyncio.ensure_future(batches.on_partitions_revoked([TP1]))
        await asyncio.sleep(0.01)
        assert not revoking.done()  # the batch in hand is still being published
        runtime.published.set()
        await revoking
        kafka.assigned = {TP0}
        return kafka.commits, batches.ledger.due({TP0, TP1})

    commits, due = asyncio.run(run())
    assert commits == [{TP0: 1, TP1: 1}]
    assert due == {}


class OrderedRuntime(SlowRuntime):
    """Logs prepare and begin; the first begin waits for ``redis``, as a batch waits for Redis."""

    def __init__(self) -> None:
        super().__init__()
        self.log: list[tuple[str, int]] = []
        self.redis = asyncio.Event()

    def prepare(self, records: list[KafkaRecord]) -> list[KafkaRecord]:
        self.log.append(("prepare", records[0].offset))
        return records

    def prepare_more(self, batch: list[KafkaRecord], records: list[KafkaRecord],
                     ) -> list[KafkaRecord]:
        self.log.append(("prepare", records[0].offset))
        return batch + records

    async def begin(self, records: list[KafkaRecord]) -> Coroutine[Any, Any, None]:
        self.log.append(("begin", records[0].offset))
        if len(self.batches) == 0:
            await self.redis.wait()
        return await super().begin(records)


def test_the_next_batch_is_decoded_while_one_is_begun_and_begun_after_it() -> None:
    async def run() -> tuple[list[tuple[str, int]], list[tuple[str, int]]]:
        kafka, runtime = FakeKafka(), OrderedRuntime()
        runtime.published.set()
        batches = _consumer(kafka, runtime, size=1)
        kafka.pending = [(TP0, 0), (TP0, 1)]
        consuming = asyncio.ensure_future(BatchConsumer._consume(batches))
        await asyncio.sleep(0.05)
        while_waiting = list(runtime.log)
        runtime.redis.set()
        await asyncio.sleep(0.05)
        consuming.cancel()
        return while_waiting, runtime.log

    while_waiting, log = asyncio.run(run())
    assert while_waiting == [("prepare", 0), ("begin", 0), ("prepare", 1)]
    assert log == [*while_waiting, ("begin", 1)]


def _while_one_is_begun(window: float) -> tuple[list[list[int]], float]:
    """Offset 0 is begun and waits for Redis; 1 arrives 50 ms later, 2 and 3 at 150 ms, and
    Redis answers at 200 ms. The offsets of each batch begun, and how long after Redis
    answered the second one was begun."""
    async def run() -> tuple[list[list[int]], float]:
        kafka, runtime = FakeKafka(), OrderedRuntime()
        runtime.published.set()
        batches = _consumer(kafka, runtime, size=10, window=window)
        kafka.pending = [(TP0, 0)]
        consuming = asyncio.ensure_future(BatchConsumer._consume(batches))
        loop = asyncio.get_running_loop()
        await asyncio.sleep(0.05)
        kafka.pending.append((TP0, 1))
        await asyncio.sleep(0.1)
        kafka.pending += [(TP0, 2), (TP0, 3)]
        await asyncio.sleep(0.05)
        answered = loop.time()
        runtime.redis.set()
        while len(runtime.batches) < 2:
            await asyncio.sleep(0.001)
        delay = loop.time() - answered
        await asyncio.sleep(0.05)
        consuming.cancel()
        return [[r.offset for r in batch] for batch in runtime.batches], delay

    return asyncio.run(run())


def test_what_arrives_while_a_batch_is_begun_joins_the_next_batch() -> None:
    offsets, _ = _while_one_is_begun(window=0.005)
    assert offsets == [[0], [1, 2, 3]]  # not [[0], [1], [2, 3]]


def test_the_batch_window_does_not_hold_the_next_batch_back_once_the_worker_is_free() -> None:
    offsets, delay = _while_one_is_begun(window=1.0)
    assert offsets == [[0], [1, 2, 3]]
    assert delay < 0.4  # the window would have kept it until 1 s after offset 1 arrived
