"""Forgetting customers on the real services: by command and by an admin message on the topic."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
from redis.asyncio import Redis

from streamapp.store.keys import Keys
from tests.integration.conftest import Stack, wait_until
from tests.integration.kafka_helpers import create_topic, event_records, publish, read_all
from tests.integration.truth import expected_profiles, make_events

pytestmark = pytest.mark.integration

# Distinctive ids, so finding one inside any Redis key or value cannot be a coincidence.
BY_COMMAND = "forget-me-by-command-7f3a"
BY_MESSAGE = "forget-me-by-message-91c2"


def _orders(customer: str, count: int, start: datetime, tag: str) -> list[dict[str, Any]]:
    return [{"type": "track", "userId": customer, "event": "Order Completed",
             "messageId": f"{tag}-{customer}-{i}", "properties": {"revenue": 120 + i},
             "timestamp": (start + timedelta(hours=i)).isoformat()} for i in range(count)]


async def _all_values(redis: Redis, keys: Keys) -> list[bytes]:
    """Every key under the prefix, and every member, field and value it holds."""
    out: list[bytes] = []
    async for key in redis.scan_iter(match=keys.pattern, count=1000):
        out.append(key)
        kind = (await redis.type(key)).decode()
        if kind == "hash":
            for field, value in (await redis.hgetall(key)).items():
                out += [field, value]
        elif kind == "set":
            out += list(await redis.smembers(key))
        elif kind == "list":
            out += await redis.lrange(key, 0, -1)
        elif kind == "zset":
            out += [m for m, _ in await redis.zrange(key, 0, -1, withscores=True)]
        elif kind == "string":
            out.append(await redis.get(key) or b"")
    return out


async def test_forget_erases_every_trace_and_drops_later_events(
        stack: Stack, redis: Redis, tmp_path: Path) -> None:
    bootstrap = stack.services.kafka_bootstrap
    await create_topic(bootstrap, stack.events_topic, partitions=4)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    events = make_events(customers=300, count=3000, seed=21)
    await publish(bootstrap, stack.events_topic, event_records(events))
    # Audiences too: one every buyer is in, one that schedules a time-driven look at everybody.
    audiences = tmp_path / "audiences.yaml"
    audiences.write_text("audiences:\n"
                         "  - {name: buyers, condition: 'orders_total >= 1'}\n"
                         "  - {name: quiet, condition: 'days_since_last_seen > 1000'}\n")
    stack.start_worker(STREAMAPP_AUDIENCES_FILE=str(audiences))
    keys = stack.keys

    async def model_started() -> bool:
        return bool(await redis.hlen(keys.cluster_counts))

    # The model assigns segments once its reservoir of first points is full.
    await wait_until(model_started, 90, "no segment was assigned", stack.worker_log, stack)
    targets = _orders(BY_COMMAND, 4, start, "a") + _orders(BY_MESSAGE, 4, start, "a")
    await publish(bootstrap, stack.events_topic, event_records(targets))

    async def segmented() -> bool:
        segments = [await redis.hget(keys.profile(c), "s") for c in (BY_COMMAND, BY_MESSAGE)]
        return all(segments) and await redis.hlen(keys.outbox) == 0

    await wait_until(segmented, 90, "the two customers were not segmented", stack.worker_log,
                     stack)
    customers_before = int(await redis.hget(keys.meta, "customers") or 0)
    counts_before = sum(int(v) for v in (await redis.hgetall(keys.cluster_counts)).values())

    done = subprocess.run([sys.executable, "-m", "streamapp", "forget", BY_COMMAND],
                          env=stack.env(), capture_output=True, timeout=60)
    assert done.returncode == 0, done.stderr.decode()
    admin = {"type": "forget", "userId": BY_MESSAGE, "messageId": "admin-1",
             "timestamp": start.isoformat()}
    later = _orders(BY_COMMAND, 3, start + timedelta(days=9), "b")
    later += _orders(BY_MESSAGE, 3, start + timedelta(days=9), "b")
    marker = _orders("still-here", 2, start + timedelta(days=9), "b")
    await publish(bootstrap, stack.events_topic, event_records([admin, *later, *marker]))

    async def settled() -> bool:
        dropped = int(await redis.hget(keys.meta, "dropped_forgotten") or 0)
        here = int(await redis.hget(keys.profile("still-here"), "n") or 0)
        return dropped == len(later) and here == 2 and await redis.hlen(keys.outbox) == 0

    await wait_until(settled, 90, "later events were not dropped", stack.worker_log, stack)

    leaks = [v for v in await _all_values(redis, keys)
             if BY_COMMAND.encode() in v or BY_MESSAGE.encode() in v]
    assert leaks == []
    assert await redis.scard(keys.suppressed) == 2
    assert int(await redis.hget(keys.meta, "customers") or 0) == customers_before - 2 + 1
    counts_after = sum(int(v) for v in (await redis.hgetall(keys.cluster_counts)).values())
    segmented_now = [k async for k in redis.scan_iter(match=keys.profile_pattern, count=1000)
                     if await redis.hget(k, "s")]
    assert counts_after == len(segmented_now)
    assert counts_after <= counts_before - 2 + 1
    buyers_now = [k async for k in redis.scan_iter(match=keys.profile_pattern, count=1000)
                  if b"buyers" in (await redis.hget(k, "au") or b"")]
    assert int(await redis.hget(keys.audience_counts, "buyers") or 0) == len(buyers_now)

    # Every other customer is exactly as the events say.
    truth = expected_profiles([e for e in events + marker
                               if e.get("userId") not in (BY_COMMAND, BY_MESSAGE)])
    for customer, t in truth.items():
        stored = await redis.hmget(keys.profile(customer), "e", "n", "r")
        assert tuple(int(x or 0) for x in stored) == (t.events_total, t.orders_total,
                                                      t.revenue_cents), customer

    changes = [orjson.loads(v) for _, v in await read_all(bootstrap, stack.changes_topic)]
    for customer in (BY_COMMAND, BY_MESSAGE):
        story = [c for c in changes if c["customer_id"] == customer and c["kind"] == "cluster"]
        assert story[-1]["change"] == "exited" and story[-1]["segment"] is None
        assert story[-1]["previous_segment"] == story[-2]["segment"]
        assert story[-1]["features"] == {}
        audience_story = [(c["change"], c["segment"] or c["previous_segment"]) for c in changes
                          if c["customer_id"] == customer and c["kind"] == "audience"]
        assert audience_story[-1] == ("exited", "buyers")
    assert await read_all(bootstrap, stack.dlq_topic) == []

    again = subprocess.run([sys.executable, "-m", "streamapp", "forget", BY_COMMAND],
                           env=stack.env(), capture_output=True, timeout=60)
    assert again.returncode == 0 and b"no profile was stored" in again.stdout
