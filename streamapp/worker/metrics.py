"""The worker's Prometheus metrics (``GET /metrics``): what came in, what went out, how fast.

Each app gets its own registry rather than prometheus-client's global one, so several workers in
one process (the tests) do not collide, and ``/metrics`` shows exactly the worker's series.
Per-batch figures are recorded by ``Runtime.handle``; lag, Redis round-trip time, model version
and customers are sampled by a timer (``sample``), because they are not per-batch facts.

>>> m = WorkerMetrics()
>>> page = KafkaRecord(b"u1", b'{"type":"page","userId":"u1"}', "events", 0, 7, 0)
>>> m.observe_batch([page], {"page": 1}, [], [], 0.01)
>>> m.value("streamapp_events_total", type="page"), m.value("streamapp_batch_size_count")
(1.0, 1.0)
"""

from __future__ import annotations

import time
from collections import Counter as Tally
from collections.abc import Collection, Mapping, Sequence
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST as CONTENT_TYPE
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from streamapp.core.changes import ChangeNote
from streamapp.pipeline.decode import KafkaRecord

EVENT_TYPES = frozenset({"track", "identify", "page", "screen", "alias"})
# Event time to published change spans milliseconds (live) to days (a backfill of history).
LATENCY_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 3600, 86400)
BATCH_BUCKETS = (1, 10, 50, 100, 250, 500, 1000, 2500, 5000, 10000)

__all__ = ["CONTENT_TYPE", "WorkerMetrics"]


class WorkerMetrics:
    """The worker's series, in a registry of their own."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.events = Counter("streamapp_events", "Input events accepted, by Segment type",
                              ["type"], registry=r)
        self.dlq = Counter("streamapp_dlq", "Input events sent to the DLQ, by reason",
                           ["reason"], registry=r)
        self.changes = Counter("streamapp_changes", "Change events published, by kind",
                               ["kind"], registry=r)
        self.batch_size = Histogram("streamapp_batch_size", "Records per processed batch",
                                    buckets=BATCH_BUCKETS, registry=r)
        self.event_to_change = Histogram(
            "streamapp_event_to_change_seconds",
            "From a change's cause event time to the change being published (wall clock)",
            buckets=LATENCY_BUCKETS, registry=r)
        self.consume_to_ack = Histogram(
            "streamapp_consume_to_ack_seconds",
            "From a batch handed to the pipeline to its results acknowledged by Kafka",
            buckets=LATENCY_BUCKETS, registry=r)
        self.lag = Gauge("streamapp_consumer_lag", "Records behind the end of each partition",
                         ["topic", "partition"], registry=r)
        self.redis_rtt = Gauge("streamapp_redis_rtt_seconds", "Round-trip time of a Redis PING",
                               registry=r)
        self.model_version = Gauge("streamapp_model_version", "Version of the shared model",
                                   registry=r)
        self.customers = Gauge("streamapp_customers_total", "Customers with a profile",
                               registry=r)
        # (topic, partition) -> next offset to handle: the consumer's position for lag.
        self.positions: dict[tuple[str, int], int] = {}

    def observe_batch(
        self,
        records: Sequence[KafkaRecord],
        events_by_type: Mapping[str, int],
        rejects: Sequence[tuple[bytes | None, Mapping[str, Any]]],
        changes: Collection[ChangeNote],
        seconds: float,
    ) -> None:
        """Count one handled batch: its records by type or DLQ reason, and its changes."""
        self.batch_size.observe(len(records))
        self.consume_to_ack.observe(seconds)
        for _, reject in rejects:
            self.dlq.labels(reason=str(reject.get("error_type", "unknown"))).inc()
        # Counted by the decoder, once per batch: parsing every payload again here would double
        # the hot path's JSON work.
        for kind, count in events_by_type.items():
            self.events.labels(type=kind if kind in EVENT_TYPES else "other").inc(count)
        # A batch holds each partition's records in offset order: the last one is the newest.
        newest = {(r.topic, r.partition): r.offset + 1 for r in records}
        for where, position in newest.items():
            self.positions[where] = max(self.positions.get(where, 0), position)
        now_ms = time.time() * 1000
        kinds: Tally[str] = Tally()
        for change in changes:
            kinds[change.kind] += 1
            if change.event_time_ms:
                self.event_to_change.observe(max(now_ms - change.event_time_ms, 0.0) / 1000)
        for kind, count in kinds.items():
            self.changes.labels(kind=kind).inc(count)

    async def sample_lag(self, consumer: Any) -> None:
        """Lag per assigned partition: the broker's end offset minus the handled position."""
        if consumer is None:
            return
        assigned = list(consumer.assignment())
        if not assigned:
            return
        ends = await consumer.end_offsets(assigned)
        for tp in assigned:
            end = ends.get(tp)
            if end is None:
                continue
            position = self.positions.get((tp.topic, tp.partition))
            if position is None:
                position = await consumer.position(tp) or 0
            self.lag.labels(topic=tp.topic, partition=str(tp.partition)).set(
                max(end - position, 0))

    async def sample_redis(self, redis: Any, customers: Any) -> None:
        """Redis round-trip time of a PING, and the number of customers."""
        began = time.perf_counter()
        await redis.ping()
        self.redis_rtt.set(time.perf_counter() - began)
        self.customers.set(await customers())

    def render(self) -> bytes:
        """The text exposition format Prometheus scrapes."""
        return bytes(generate_latest(self.registry))

    def value(self, name: str, **labels: str) -> float | None:
        """One sample's current value, for tests and the dashboard."""
        return self.registry.get_sample_value(name, labels)
