"""Two worker processes share a 4-partition topic: every profile ends at the ground truth."""

from __future__ import annotations

import asyncio
from datetime import datetime

import pytest
from aiokafka.admin import AIOKafkaAdminClient
from redis.asyncio import Redis

from streamapp.store.keys import Keys
from tests.integration.conftest import Stack, wait_until
from tests.integration.kafka_helpers import create_topic, event_records, publish
from tests.integration.truth import Truth, expected_profiles, make_events

pytestmark = pytest.mark.integration


def _ms(when: datetime | None) -> int:
    return int(when.timestamp() * 1000) if when else 0


def _expected(t: Truth) -> tuple[int, ...]:
    return (t.events_total, t.orders_total, t.revenue_cents, t.page_views,
            _ms(t.first_seen), _ms(t.last_seen))


async def _mismatches(redis: Redis, prefix: str, truth: dict[str, Truth]) -> list[str]:
    pipe = redis.pipeline(transaction=False)
    for customer_id in truth:
        pipe.hmget(Keys(prefix).profile(customer_id), "e", "n", "r", "v", "f", "l")
    stored = await pipe.execute()
    return [f"{customer_id}: stored {got} expected {_expected(t)}"
            for (customer_id, t), got in zip(truth.items(), stored, strict=True)
            if tuple(int(x or 0) for x in got) != _expected(t)]


async def _members(bootstrap: str, group: str) -> int:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        described = await admin.describe_consumer_groups([group])
    finally:
        await admin.close()
    groups = [group for response in described for group in response.to_object()["groups"]]
    return sum(len(group["members"]) for group in groups if group["state"] == "Stable")


async def test_two_workers_on_four_partitions_keep_totals_exact(stack: Stack, redis: Redis) -> None:
    bootstrap = stack.services.kafka_bootstrap
    await create_topic(bootstrap, stack.events_topic, partitions=4)
    events = make_events(customers=400, count=6000, seed=23)
    records = event_records(events)
    stack.start_worker()
    stack.start_worker()
    # Half before both workers have joined, half after: the rebalance between them is part of
    # what must not lose or double-count anything.
    await publish(bootstrap, stack.events_topic, records[: len(records) // 2])
    await asyncio.sleep(5)
    await publish(bootstrap, stack.events_topic, records[len(records) // 2:])
    truth = expected_profiles(events)

    async def exact() -> bool:
        return not await _mismatches(redis, stack.name, truth)

    await wait_until(exact, 120, "profiles did not reach the ground truth with two workers",
                     stack.worker_log, stack)
    assert all(p.poll() is None for p in stack.processes), stack.worker_log()
    # Both took part: the group has two members, so each worker owned some of the partitions.
    # Asked until the group is stable: a member that missed a heartbeat on this busy machine
    # rejoins, and a description taken meanwhile lists only the other one.

    async def both_members() -> bool:
        return await _members(bootstrap, stack.name) == 2

    await wait_until(both_members, 30, "the group did not settle with both workers in it",
                     stack.worker_log, stack)
    assert int(await redis.hget(stack.keys.meta, "customers") or 0) == len(truth)
