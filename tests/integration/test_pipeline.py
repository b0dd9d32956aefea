"""The pipeline end to end on the real Kafka and Redis, with a real worker process."""

from __future__ import annotations

import asyncio
import base64
import itertools
import subprocess
import sys
from collections import defaultdict
from datetime import datetime

import orjson
import pytest
from redis.asyncio import Redis

from streamapp.pipeline.lookup import Lookup
from streamapp.settings import Settings
from streamapp.store.keys import Keys
from tests.integration.conftest import Stack, wait_until
from tests.integration.kafka_helpers import create_topic, event_records, publish, read_all
from tests.integration.truth import Truth, expected_profiles, make_events

pytestmark = pytest.mark.integration


def _ms(when: datetime | None) -> int:
    return int(when.timestamp() * 1000) if when else 0


async def _stored(redis: Redis, prefix: str, customer_id: str) -> tuple[int, ...]:
    fields = await redis.hmget(Keys(prefix).profile(customer_id), "e", "n", "r", "v", "f", "l")
    return tuple(int(x or 0) for x in fields)


def _expected(t: Truth) -> tuple[int, ...]:
    return (t.events_total, t.orders_total, t.revenue_cents, t.page_views,
            _ms(t.first_seen), _ms(t.last_seen))


async def _all_match(redis: Redis, prefix: str, truth: dict[str, Truth]) -> bool:
    for customer_id, t in truth.items():
        if await _stored(redis, prefix, customer_id) != _expected(t):
            return False
    return True


async def _mismatches(redis: Redis, prefix: str, truth: dict[str, Truth]) -> list[str]:
    out = []
    for customer_id, t in truth.items():
        got = await _stored(redis, prefix, customer_id)
        if got != _expected(t):
            out.append(f"{customer_id}: stored {got} expected {_expected(t)}")
    return out


async def _snapshot(redis: Redis, prefix: str) -> dict[bytes, dict[bytes, bytes]]:
    keys = [k async for k in redis.scan_iter(match=Keys(prefix).profile_pattern, count=1000)]
    return {k: await redis.hgetall(k) for k in keys}


async def _run_to_truth(stack: Stack, redis: Redis, events: list[dict[str, object]],
                        extra: list[tuple[bytes, bytes]] = ()) -> dict[str, Truth]:
    bootstrap = stack.services.kafka_bootstrap
    await create_topic(bootstrap, stack.events_topic, partitions=4)
    records = event_records(events)
    await publish(bootstrap, stack.events_topic, records[: len(records) // 2])
    await publish(bootstrap, stack.events_topic, extra)
    stack.start_worker()
    # The second half arrives while the worker is running: both catch-up and live paths count.
    await asyncio.sleep(2)
    await publish(bootstrap, stack.events_topic, records[len(records) // 2:])
    truth = expected_profiles(events)
    await wait_until(lambda: _all_match(redis, stack.name, truth), 90,
                     "profiles did not reach the ground truth", stack.worker_log, stack)
    return truth


async def test_profiles_equal_ground_truth_and_changes_agree(stack: Stack, redis: Redis) -> None:
    events = make_events(customers=300, count=4000, seed=11)
    truth = await _run_to_truth(stack, redis, events)
    assert await _mismatches(redis, stack.name, truth) == []
    settings = Settings(redis_url=stack.services.redis_url, redis_prefix=stack.name)
    lookup = Lookup(settings, redis)
    assert await lookup.profiles.customers_total() == len(truth)

    # (b) every change event consumed downstream agrees with the final profiles
    async def outbox_empty() -> bool:
        return await redis.hlen(stack.keys.outbox) == 0

    await wait_until(outbox_empty, 30, "the outbox was not drained")
    changes = [orjson.loads(v) for _, v in await read_all(stack.services.kafka_bootstrap,
                                                           stack.changes_topic)]
    assert changes, "no change event was published"
    by_customer: dict[str, list[dict[str, object]]] = defaultdict(list)
    for change in changes:
        by_customer[str(change["customer_id"])].append(change)
    counts: dict[str, int] = defaultdict(int)
    for customer_id in truth:
        profile = await lookup.profile(customer_id)
        assert profile is not None
        story = by_customer.get(customer_id, [])
        segment = profile["segment"]["id"] if profile["segment"] else None
        if segment is None:
            assert story == []
            continue
        counts[segment] += 1
        assert story[-1]["segment"] == segment
        assert story[0]["change"] == "entered" and story[0]["previous_segment"] is None
        for before, after in itertools.pairwise(story):
            assert after["previous_segment"] == before["segment"]
            assert after["change"] == "moved"
        assert len({c["event_id"] for c in story}) == len(story)
    assert await lookup.profiles.counts() == dict(counts)
    assert sum(counts.values()) > 0.9 * len(truth)


async def test_profile_command_prints_the_contract(stack: Stack, redis: Redis) -> None:
    events = make_events(customers=40, count=600, seed=5)
    truth = await _run_to_truth(stack, redis, events)
    customer_id, t = max(truth.items(), key=lambda kv: kv[1].orders_total)
    out = subprocess.run([sys.executable, "-m", "streamapp", "profile", customer_id, "--json"],
                         env=stack.env(), capture_output=True, check=True, timeout=60)
    profile = orjson.loads(out.stdout)
    assert set(profile) == {"customer_id", "features", "traits", "segment", "audiences", "rfm",
                            "model_version", "explanation"}
    features = profile["features"]
    assert (features["orders_total"], features["revenue_total"], features["events_total"]) == (
        t.orders_total, t.revenue_total, t.events_total)
    assert "email" not in profile["traits"]
    missing = subprocess.run([sys.executable, "-m", "streamapp", "profile", "nobody"],
                             env=stack.env(), capture_output=True, timeout=60)
    assert missing.returncode == 1 and b"no customer" in missing.stderr


async def test_bad_input_goes_to_the_dlq_and_processing_continues(
        stack: Stack, redis: Redis) -> None:
    bad = [(b"x1", b"{not json"), (b"x2", b'{"type":"track","userId":"x2"}'),
           (b"x3", b'{"type":"track","userId":"x3","event":"Order Completed",'
                   b'"properties":{"revenue":-5},"timestamp":"2026-01-01T00:00:00Z"}'),
           (b"x4", b'{"type":"page","userId":"x4","name":"' + b"a" * 70_000 + b'"}')]
    events = make_events(customers=50, count=400, seed=3)
    await _run_to_truth(stack, redis, events, extra=bad)
    dlq = [orjson.loads(v) for _, v in await read_all(stack.services.kafka_bootstrap,
                                                       stack.dlq_topic)]
    assert sorted(r["error_type"] for r in dlq) == [
        "invalid_event", "invalid_event", "invalid_json", "too_large"]
    originals = {base64.b64decode(r["payload_b64"]) for r in dlq}
    assert originals == {value for _, value in bad}
    assert all(r["topic"] == stack.events_topic and r["offset"] >= 0 for r in dlq)


async def test_replaying_the_topic_changes_no_profile(stack: Stack, redis: Redis) -> None:
    events = make_events(customers=100, count=1500, seed=8)
    await _run_to_truth(stack, redis, events)
    before = await _snapshot(redis, stack.name)
    stack.stop_all()
    changes_before = len(await read_all(stack.services.kafka_bootstrap, stack.changes_topic))
    # A new consumer group reads the whole topic again from the start, as after lost offsets.
    stack.start_worker(STREAMAPP_APP_ID=f"{stack.name}-replay")

    await wait_until(lambda: _consumed_everything(stack), 90,
                     "the replaying worker did not catch up", stack.worker_log, stack)
    assert await _snapshot(redis, stack.name) == before
    assert len(await read_all(stack.services.kafka_bootstrap, stack.changes_topic)) \
        == changes_before


async def _consumed_everything(stack: Stack) -> bool:
    from aiokafka import AIOKafkaConsumer, TopicPartition

    consumer = AIOKafkaConsumer(bootstrap_servers=stack.services.kafka_bootstrap,
                                group_id=f"{stack.name}-replay", enable_auto_commit=False)
    await consumer.start()
    try:
        tps = [TopicPartition(stack.events_topic, p) for p in range(4)]
        ends = await consumer.end_offsets(tps)
        for tp in tps:
            committed = await consumer.committed(tp)
            if (committed or 0) < ends[tp]:
                return False
        return True
    finally:
        await consumer.stop()
