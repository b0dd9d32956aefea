"""The worker's Prometheus series, fed with batches as Runtime.handle does."""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass

from prometheus_client.parser import text_string_to_metric_families

from streamapp.core.changes import ChangeNote
from streamapp.pipeline.decode import KafkaRecord, decode_batch
from streamapp.worker.metrics import WorkerMetrics


def _records() -> list[KafkaRecord]:
    values = [b'{"type":"page","userId":"u1","timestamp":"2026-01-01T00:00:00Z"}',
              b'{"type":"track","userId":"u1","event":"Order Completed",'
              b'"properties":{"revenue":5}}',
              b"{oops",
              b'{"type":"identify","userId":"u2","traits":{"plan":"pro"}}']
    return [KafkaRecord(b"u", v, "events", 1, 10 + i, 0) for i, v in enumerate(values)]


def test_a_batch_is_counted_by_type_reason_and_kind() -> None:
    metrics = WorkerMetrics()
    records = _records()
    facts, rejects = decode_batch(records, 65536)
    change = ChangeNote("u1", "cluster", 1_767_225_600_000)  # 2026-01-01
    metrics.observe_batch(records, Counter(f.event_type for f in facts), rejects, [change], 0.02)
    assert metrics.value("streamapp_events_total", type="page") == 1
    assert metrics.value("streamapp_events_total", type="track") == 1
    assert metrics.value("streamapp_events_total", type="identify") == 1
    assert metrics.value("streamapp_dlq_total", reason="invalid_json") == 1
    assert metrics.value("streamapp_changes_total", kind="cluster") == 1
    assert metrics.value("streamapp_batch_size_sum") == 4
    assert metrics.value("streamapp_event_to_change_seconds_count") == 1
    assert metrics.positions == {("events", 1): 14}
    names = {f.name for f in text_string_to_metric_families(metrics.render().decode())}
    assert {"streamapp_events", "streamapp_consumer_lag", "streamapp_redis_rtt_seconds",
            "streamapp_model_version", "streamapp_customers_total"} <= names


@dataclass(frozen=True)
class TP:
    topic: str
    partition: int


class FakeConsumer:
    def assignment(self) -> set[TP]:
        return {TP("events", 0), TP("events", 1)}

    async def end_offsets(self, tps: list[TP]) -> dict[TP, int]:
        return {tp: 100 for tp in tps}

    async def position(self, tp: TP) -> int:
        return 40


class FakeRedis:
    async def ping(self) -> bool:
        return True


def test_lag_uses_the_handled_position_else_the_consumer_position() -> None:
    metrics = WorkerMetrics()
    metrics.positions[("events", 1)] = 90

    async def customers() -> int:
        return 7

    async def sample() -> None:
        await metrics.sample_lag(FakeConsumer())
        await metrics.sample_redis(FakeRedis(), customers)

    asyncio.run(sample())
    assert metrics.value("streamapp_consumer_lag", topic="events", partition="0") == 60
    assert metrics.value("streamapp_consumer_lag", topic="events", partition="1") == 10
    assert metrics.value("streamapp_customers_total") == 7
    rtt = metrics.value("streamapp_redis_rtt_seconds")
    assert rtt is not None and rtt >= 0


def test_two_workers_in_one_process_do_not_collide() -> None:
    WorkerMetrics()
    WorkerMetrics()
