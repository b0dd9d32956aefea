"""Identity merge on the real Kafka and Redis: an anonymous visitor becomes a known customer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import orjson
import pytest
from redis.asyncio import Redis

from streamapp.store.keys import trait_field
from tests.integration.conftest import Stack, wait_until
from tests.integration.kafka_helpers import create_topic, event_records, publish, read_all
from tests.integration.truth import expected_profiles, make_events

pytestmark = pytest.mark.integration
START = datetime(2026, 2, 1, tzinfo=UTC)


def _at(hours: float) -> str:
    return (START + timedelta(hours=hours)).isoformat()


def _anonymous(anonymous_id: str, first: int, count: int) -> list[dict[str, object]]:
    return [{"type": "track", "anonymousId": anonymous_id, "event": "Order Completed",
             "properties": {"revenue": 10.0 + i}, "messageId": f"{anonymous_id}-{i}",
             "timestamp": _at(i)} if i % 2 else
            {"type": "page", "anonymousId": anonymous_id, "messageId": f"{anonymous_id}-{i}",
             "timestamp": _at(i)} for i in range(first, first + count)]


async def test_anonymous_profiles_merge_exactly_once(stack: Stack, redis: Redis) -> None:
    bootstrap = stack.services.kafka_bootstrap
    await create_topic(bootstrap, stack.events_topic, partitions=4)
    # Enough other customers for the model to start assigning segments.
    crowd = make_events(customers=200, count=1500, seed=4)
    before = _anonymous("anon-1", 0, 6) + _anonymous("anon-2", 0, 4)
    await publish(bootstrap, stack.events_topic, event_records(crowd))
    stack.start_worker()

    async def model_assigns() -> bool:
        return bool(await redis.hgetall(stack.keys.cluster_counts))

    # The anonymous visitors come once the model has centres: which batch a partition's last
    # events fall in depends on the fetches, and a visitor seen only before would stay unassigned.
    await wait_until(model_assigns, 90, "the model assigned no segment", stack.worker_log, stack)
    await publish(bootstrap, stack.events_topic, event_records(before))

    async def anonymous_seen() -> bool:
        return all([await redis.hget(stack.keys.profile(a), "s") for a in ("anon-1", "anon-2")])

    await wait_until(anonymous_seen, 90, "the anonymous profiles were not segmented",
                     stack.worker_log, stack)
    merges = [
        {"type": "identify", "userId": "user-1", "anonymousId": "anon-1", "messageId": "id-1",
         "traits": {"plan": "pro"}, "timestamp": _at(50)},
        {"type": "alias", "userId": "user-2", "previousId": "anon-2", "messageId": "al-1",
         "timestamp": _at(50)},
        # The same merge again, as a retrying producer or a second identify would send it.
        {"type": "identify", "userId": "user-1", "anonymousId": "anon-1", "messageId": "id-2",
         "timestamp": _at(51)},
    ]
    after = [*_anonymous("anon-1", 100, 4),
             {"type": "track", "userId": "user-1", "event": "Order Completed",
              "properties": {"revenue": 99.5}, "messageId": "u1-o", "timestamp": _at(120)}]
    await publish(bootstrap, stack.events_topic, event_records(merges))
    await wait_until(lambda: redis.hget(stack.keys.aliases, "anon-1"), 60,
                     "the merge was not applied", stack.worker_log, stack)
    await publish(bootstrap, stack.events_topic, event_records(after))

    # One profile per person, holding everything either id did.
    truth = expected_profiles(before + merges + after)
    user_1 = [truth[c] for c in ("anon-1", "user-1")]
    want = (sum(t.events_total for t in user_1), sum(t.orders_total for t in user_1),
            sum(t.revenue_cents for t in user_1))

    async def merged() -> bool:
        got = await redis.hmget(stack.keys.profile("user-1"), "e", "n", "r")
        return tuple(int(x or 0) for x in got) == want

    await wait_until(merged, 60, "user-1 does not hold both ids' totals", stack.worker_log, stack)
    user_2 = await redis.hmget(stack.keys.profile("user-2"), "e", "n", "r")
    assert tuple(int(x or 0) for x in user_2) == (
        truth["anon-2"].events_total + truth["user-2"].events_total,
        truth["anon-2"].orders_total, truth["anon-2"].revenue_cents)
    assert not await redis.exists(stack.keys.profile("anon-1"), stack.keys.profile("anon-2"))
    assert await redis.hget(stack.keys.profile("user-1"), trait_field("plan")) == b"pro"
    customers = int(await redis.hget(stack.keys.meta, "customers") or 0)
    assert customers == len(expected_profiles(crowd)) + 2

    async def drained() -> bool:
        return await redis.hlen(stack.keys.outbox) == 0

    await wait_until(drained, 30, "the outbox was not drained")
    changes = [orjson.loads(v) for _, v in await read_all(bootstrap, stack.changes_topic)]
    for anonymous, user in (("anon-1", "user-1"), ("anon-2", "user-2")):
        exits = [c for c in changes if c["customer_id"] == anonymous and c["change"] == "exited"]
        assert len(exits) == 1 and exits[0]["merged_into"] == user
    counts = {k.decode(): int(v) for k, v in
              (await redis.hgetall(stack.keys.cluster_counts)).items()}
    # Customers whose only events came before the model had centres have no segment yet.
    segmented = [k async for k in redis.scan_iter(match=stack.keys.profile_pattern, count=1000)
                 if await redis.hget(k, "s")]
    assert sum(counts.values()) == len(segmented)
