"""End-to-end latency at a fixed offered load: event published → its change event consumed.

The load is the benchmark's ordinary events (existing customers) with a probe every
``probe_every`` events: the first event of a brand-new customer, which always yields an
``entered`` change event naming the probe's messageId as ``cause_message_id``. Latency is the time
from handing the probe to the producer to reading its change event from ``segment-changes``, on
one clock (this process), so it includes the trip to the broker, the worker's batching,
processing, and the change event's trip back through Kafka.

The load goes out every ``TICK_SECONDS`` as one built batch per partition
(``KafkaPublisher.queue_batches``): the generator shares the machine with the worker, Kafka and
Redis, and a record-by-record ``send`` took a quarter of a core at 3,000 events/s.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import statistics
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import orjson
from aiokafka import AIOKafkaConsumer, TopicPartition

from streamapp.bench.workload import probe_record
from streamapp.kafka.producer import KafkaPublisher
from streamapp.kafka.topics import partition_ids

TICK_SECONDS = 0.005
DRAIN_SECONDS = 15.0
# How long the broker may hold the changes consumer's fetch when nothing is new. A fetch returns as
# soon as a change event is appended to one of its partitions; polling every 5 ms cost the broker
# that the worker shares ~80 empty fetches a second, and p99 at half load was higher
# (A/B at 3,400 events/s, 12 windows of 15 s each: median p99 93 ms at 5 ms, 75 ms at 200 ms).
CHANGES_FETCH_WAIT_MS = 200


@dataclass
class LatencyResult:
    """Latency figures of one offered load."""

    offered_rate: float
    achieved_rate: float
    probes: int
    matched: int
    p50_ms: float
    p99_ms: float

    def as_dict(self) -> dict[str, float | int]:
        return {"offered_rate": round(self.offered_rate),
                "achieved_rate": round(self.achieved_rate),
                "probes": self.probes, "matched": self.matched,
                "p50_ms": round(self.p50_ms, 1), "p99_ms": round(self.p99_ms, 1)}


def latency_row(load: float, results: list[LatencyResult]) -> dict[str, Any]:
    """One load's figures over its rounds: medians of p50 and p99, every round's p99.

    >>> rounds = [LatencyResult(100, 99, 10, 10, 5.0, p99, ) for p99 in (30.0, 90.0, 40.0)]
    >>> row = latency_row(0.5, rounds)
    >>> row["p99_ms"], row["rounds_p99_ms"], row["matched"], row["probes"]
    (40.0, [30.0, 90.0, 40.0], 30, 30)
    """
    return {"load": load,
            "offered_rate": round(statistics.median(r.offered_rate for r in results)),
            "achieved_rate": round(statistics.median(r.achieved_rate for r in results)),
            "probes": sum(r.probes for r in results),
            "matched": sum(r.matched for r in results),
            "p50_ms": round(statistics.median(r.p50_ms for r in results), 1),
            "p99_ms": round(statistics.median(r.p99_ms for r in results), 1),
            "rounds_p99_ms": [round(r.p99_ms, 1) for r in results]}


async def consumer_at_end(bootstrap: str, topic: str) -> AIOKafkaConsumer:
    """A started consumer of every partition of ``topic``, reading from their current ends on:
    the benchmark's reader of change events, and the latency floor's reader of events."""
    partitions = await partition_ids(bootstrap, topic)
    if not partitions:
        raise RuntimeError(f"topic {topic} has no partitions: is the process that makes it "
                           "running?")
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False,
                                fetch_max_wait_ms=CHANGES_FETCH_WAIT_MS)
    await consumer.start()
    tps = [TopicPartition(topic, p) for p in partitions]
    consumer.assign(tps)
    # An explicit seek to offsets asked for first: seek_to_end's lazy reset left aiokafka 0.14's
    # fetcher idle in some runs, and the probes' change events then went unseen.
    ends = await consumer.end_offsets(tps)
    for tp in tps:
        consumer.seek(tp, ends[tp])
    return consumer


async def measure_latency(
    bootstrap: str, events_topic: str, changes_topic: str, rate: float, seconds: float,
    filler: Iterator[tuple[bytes, bytes]], probe_serial: int, start_ms: int,
    probe_every: int = 10, tick: Callable[[float], None] = lambda _: None,
) -> LatencyResult:
    """Offer ``rate`` events/s for ``seconds`` and measure the probes' latency."""
    consumer = await consumer_at_end(bootstrap, changes_topic)
    publisher = KafkaPublisher(bootstrap)
    await publisher.start()
    sent_at: dict[str, float] = {}
    latencies: list[float] = []
    done = asyncio.Event()

    async def read_changes() -> None:
        while not done.is_set():
            batches = await consumer.getmany(timeout_ms=50)
            now = time.perf_counter()
            for messages in batches.values():
                for message in messages:
                    cause = orjson.loads(message.value or b"{}").get("cause_message_id")
                    sent = sent_at.pop(cause, None) if isinstance(cause, str) else None
                    if sent is not None:
                        latencies.append(now - sent)
            # Only once every probe is out: between probes nothing may be outstanding.
            if all_sent.is_set() and not sent_at:
                done.set()

    all_sent = asyncio.Event()
    probe_total = 0
    # This process holds the benchmark's records: a full collection walking them stopped the
    # reader for tens of milliseconds, which the probes then counted as the worker's latency.
    gc.collect()
    gc.freeze()
    reader = asyncio.create_task(read_changes())
    pending: list[Awaitable[object]] = []
    sent = 0
    began = time.perf_counter()
    try:
        while (elapsed := time.perf_counter() - began) < seconds:
            due: list[tuple[bytes | None, bytes]] = []
            probes: list[str] = []
            while sent < rate * elapsed:
                if sent % probe_every == 0:
                    message_id, record = probe_record(probe_serial + probe_total,
                                                      start_ms + sent)
                    probe_total += 1
                    probes.append(message_id)
                else:
                    record = next(filler)
                due.append(record)
                sent += 1
            if due:
                handed_over = time.perf_counter()
                sent_at.update((message_id, handed_over) for message_id in probes)
                pending.append(await publisher.queue_batches(events_topic, due))
            if len(pending) > 100:
                await asyncio.gather(*pending)
                pending.clear()
            tick(elapsed / seconds)
            await asyncio.sleep(TICK_SECONDS)
        achieved = sent / (time.perf_counter() - began)
        await asyncio.gather(*pending)
        all_sent.set()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(done.wait(), DRAIN_SECONDS)
    finally:
        done.set()
        await reader
        await publisher.stop()
        await consumer.stop()
        gc.unfreeze()
    values = np.array(latencies) * 1000 if latencies else np.array([np.nan])
    return LatencyResult(rate, achieved, probe_total, len(latencies),
                         float(np.percentile(values, 50)), float(np.percentile(values, 99)))
