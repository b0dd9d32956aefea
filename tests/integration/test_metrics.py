"""``GET /metrics`` parsed with prometheus-client's parser while events flow; the DLQ commands."""

from __future__ import annotations

from collections import Counter

import orjson
import pytest
from prometheus_client.parser import text_string_to_metric_families
from redis.asyncio import Redis

from tests.integration.conftest import Stack, wait_until
from tests.integration.http_helpers import WorkerWeb, run_cli, start_web_worker
from tests.integration.kafka_helpers import create_topic, event_records, publish, read_all
from tests.integration.truth import expected_profiles, make_events

pytestmark = pytest.mark.integration


async def scrape(web: WorkerWeb) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    status, body, headers = await web.get("/metrics")
    assert status == 200 and headers["Content-Type"].startswith("text/plain")
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(body.decode())
            for s in family.samples}


def value(samples: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str,
          **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


async def test_metrics_move_as_events_flow(stack: Stack, redis: Redis) -> None:
    bootstrap = stack.services.kafka_bootstrap
    await create_topic(bootstrap, stack.events_topic)
    web = await start_web_worker(stack)
    before = await scrape(web)
    assert value(before, "streamapp_events_total", type="page") == 0

    events = make_events(customers=150, count=1500, seed=21)
    bad = [(b"c1", b"{not json"), (b"c2", b'{"type": "track", "userId": "c2"}')]
    await publish(bootstrap, stack.events_topic, event_records(events) + bad)
    types = Counter(str(e["type"]) for e in events)

    async def counted() -> bool:
        samples = await scrape(web)
        return sum(value(samples, "streamapp_events_total", type=t) for t in types) == len(events)

    await wait_until(counted, 90, "the worker did not count every event", stack.worker_log, stack)
    await wait_until(lambda: _sampled(web), 30, "lag, Redis RTT and customers were not sampled",
                     stack.worker_log, stack)
    samples = await scrape(web)
    for event_type, count in types.items():
        assert value(samples, "streamapp_events_total", type=event_type) == count
    assert value(samples, "streamapp_dlq_total", reason="invalid_json") == 1
    assert value(samples, "streamapp_dlq_total", reason="invalid_event") == 1
    changes = await read_all(bootstrap, stack.changes_topic)
    assert value(samples, "streamapp_changes_total", kind="cluster") == len(changes) > 0
    assert value(samples, "streamapp_batch_size_sum") == len(events) + len(bad)
    assert value(samples, "streamapp_consume_to_ack_seconds_count") >= 1
    assert value(samples, "streamapp_event_to_change_seconds_count") == len(changes)
    assert value(samples, "streamapp_customers_total") == len(expected_profiles(events))
    assert value(samples, "streamapp_model_version") >= 1
    assert value(samples, "streamapp_redis_rtt_seconds") > 0
    lags = [v for (name, _), v in samples.items() if name == "streamapp_consumer_lag"]
    assert len(lags) == 4 and all(lag == 0 for lag in lags)

    # The DLQ commands see both rejects; a replay sends them back, and once only.
    listed = await run_cli(stack, "dlq", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    records = [orjson.loads(line) for line in listed.stdout.splitlines()]
    assert sorted(r["error_type"] for r in records) == ["invalid_event", "invalid_json"]
    shown = await run_cli(stack, "dlq", "show", records[0]["position"])
    assert shown.returncode == 0 and "payload:" in shown.stdout
    replayed = await run_cli(stack, "dlq", "replay", "--error-type", "invalid_json")
    assert replayed.returncode == 0 and "sent 1 records" in replayed.stdout, replayed.stdout
    again = await run_cli(stack, "dlq", "replay")
    assert "sent 1 records" in again.stdout, again.stdout  # only the one not replayed before
    await wait_until(lambda: _dlq_count(web, 4), 60, "replayed records were not rejected again",
                     stack.worker_log, stack)


async def _sampled(web: WorkerWeb) -> bool:
    samples = await scrape(web)
    return value(samples, "streamapp_redis_rtt_seconds") > 0 and any(
        name == "streamapp_consumer_lag" for name, _ in samples)


async def _dlq_count(web: WorkerWeb, expected: int) -> bool:
    samples = await scrape(web)
    return sum(v for (name, _), v in samples.items() if name == "streamapp_dlq_total") == expected
