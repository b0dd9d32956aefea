"""Audiences on the real Kafka and Redis: membership, time-driven entries, editing the file."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest
from redis.asyncio import Redis

from streamapp.store.keys import Keys
from tests.integration.conftest import Stack, wait_until
from tests.integration.kafka_helpers import create_topic, event_records, publish, read_all

pytestmark = pytest.mark.integration

AUDIENCES = """
audiences:
  - name: big_spenders
    description: spent over 500 in the last 90 days
    condition: revenue_90d > 500
  - name: at_risk
    description: bought, then silent for 60 days
    condition: orders_total >= 1 and days_since_last_order > 60
  - name: pro_plan
    condition: traits.plan == "pro"
"""
START = datetime(2026, 3, 1, tzinfo=UTC)


def _order(customer: str, day: float, amount: float, n: int) -> dict[str, object]:
    return {"type": "track", "userId": customer, "event": "Order Completed",
            "properties": {"revenue": amount}, "messageId": f"{customer}-o{n}",
            "timestamp": (START + timedelta(days=day)).isoformat()}


def _events() -> list[dict[str, object]]:
    events: list[dict[str, object]] = []
    for i in range(40):
        customer = f"a{i}"
        for n in range(i % 5):  # 0..4 orders, spread over the first 30 days
            events.append(_order(customer, 5 * n + i % 7, 100.0 + 40 * (i % 3), n))
        if i % 4 == 0:
            events.append({"type": "identify", "userId": customer, "messageId": f"{customer}-id",
                           "traits": {"plan": "pro" if i % 8 == 0 else "free"},
                           "timestamp": START.isoformat()})
    return events


def _expected(events: list[dict[str, object]], now: datetime) -> dict[str, set[str]]:
    """The conditions evaluated independently, straight from the events."""
    members: dict[str, set[str]] = {}
    for customer in {str(e["userId"]) for e in events}:
        mine = [e for e in events if e["userId"] == customer]
        orders = [(datetime.fromisoformat(str(e["timestamp"])),
                   float(e["properties"]["revenue"]))  # type: ignore[index]
                  for e in mine if e.get("event") == "Order Completed"]
        got = set()
        if sum(a for t, a in orders if (now.date() - t.date()).days < 90) > 500:
            got.add("big_spenders")
        if orders and (now - max(t for t, _ in orders)) > timedelta(days=60):
            got.add("at_risk")
        if any(e.get("traits", {}).get("plan") == "pro" for e in mine):  # type: ignore[union-attr]
            got.add("pro_plan")
        members[customer] = got
    return members


async def _memberships(redis: Redis, prefix: str, customers: list[str]) -> dict[str, set[str]]:
    out = {}
    for customer in customers:
        raw = await redis.hget(Keys(prefix).profile(customer), "au")
        out[customer] = set(raw.decode().split(",")) if raw else set()
    return out


async def test_membership_follows_events_time_and_the_file(
        stack: Stack, redis: Redis, tmp_path: Path) -> None:
    bootstrap = stack.services.kafka_bootstrap
    audiences = tmp_path / "audiences.yaml"
    audiences.write_text(AUDIENCES)
    await create_topic(bootstrap, stack.events_topic, partitions=4)
    events = _events()
    await publish(bootstrap, stack.events_topic, event_records(events))
    stack.start_worker(STREAMAPP_AUDIENCES_FILE=str(audiences))
    customers = sorted({str(e["userId"]) for e in events})
    now = max(datetime.fromisoformat(str(e["timestamp"])) for e in events)

    async def settled(at: datetime) -> bool:
        expected = _expected(events, at)
        return await _memberships(redis, stack.name, customers) == {
            c: expected[c] for c in customers}

    await wait_until(lambda: settled(now), 60, "memberships did not match the conditions",
                     stack.worker_log, stack)
    assert not any("at_risk" in m for m in (await _memberships(redis, stack.name, customers))
                   .values())

    # Time moves on: one other customer's event 70 days later. Everybody whose last order is now
    # over 60 days old enters at_risk with no event of their own.
    later = now + timedelta(days=70)
    clock = {"type": "page", "userId": "clock", "messageId": "clock-1",
             "timestamp": later.isoformat()}
    await publish(bootstrap, stack.events_topic, event_records([clock]))
    events.append(clock)
    await wait_until(lambda: settled(later), 60, "time alone did not move memberships",
                     stack.worker_log, stack)
    at_risk = {c for c, m in _expected(events, later).items() if "at_risk" in m}
    assert len(at_risk) >= 20

    # A new audience in the file is evaluated for everybody already known.
    audiences.write_text(AUDIENCES + """  - name: buyers
    condition: orders_total >= 1
""")
    buyers = {c for c in customers if int(c[1:]) % 5}

    async def backfilled() -> bool:
        members = await _memberships(redis, stack.name, customers)
        return {c for c, m in members.items() if "buyers" in m} == buyers

    await wait_until(backfilled, 60, "a new audience was not backfilled", stack.worker_log, stack)

    async def drained() -> bool:
        return await redis.hlen(stack.keys.outbox) == 0

    await wait_until(drained, 30, "the outbox was not drained")
    changes = [orjson.loads(v) for _, v in await read_all(bootstrap, stack.changes_topic)]
    entered = {(c["customer_id"], c["segment"]) for c in changes
               if c["kind"] == "audience" and c["change"] == "entered"}
    assert {(c, "at_risk") for c in at_risk} <= entered
    assert {(c, "buyers") for c in buyers} <= entered
    counts = {k.decode(): int(v) for k, v in
              (await redis.hgetall(stack.keys.audience_counts)).items()}
    assert counts["buyers"] == len(buyers) and counts["at_risk"] == len(at_risk)
