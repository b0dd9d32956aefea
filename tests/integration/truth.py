"""Ground truth computed straight from the published events, with no streamapp code."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

REVENUE_KEYS = ("revenue", "total", "value")


@dataclass
class Truth:
    events_total: int = 0
    orders_total: int = 0
    revenue_cents: int = 0
    page_views: int = 0
    first_seen: datetime | None = None
    last_seen: datetime | None = None

    @property
    def revenue_total(self) -> float:
        return self.revenue_cents / 100


def expected_profiles(events: list[dict[str, Any]]) -> dict[str, Truth]:
    """Totals per customer; a messageId seen before (a producer duplicate) counts once."""
    seen: set[str] = set()
    truth: dict[str, Truth] = {}
    for event in events:
        message_id = event.get("messageId")
        if message_id is not None:
            if message_id in seen:
                continue
            seen.add(message_id)
        t = truth.setdefault(str(event.get("userId") or event.get("anonymousId")), Truth())
        when = datetime.fromisoformat(str(event["timestamp"]))
        t.events_total += 1
        t.first_seen = min(t.first_seen or when, when)
        t.last_seen = max(t.last_seen or when, when)
        if event["type"] in ("page", "screen"):
            t.page_views += 1
        if event["type"] == "track" and event.get("event") == "Order Completed":
            t.orders_total += 1
            props = event.get("properties", {})
            amount = next((props[k] for k in REVENUE_KEYS if props.get(k) is not None), 0)
            t.revenue_cents += int((Decimal(str(amount)) * 100).to_integral_value())
    return truth


def make_events(customers: int, count: int, seed: int) -> list[dict[str, Any]]:
    """A realistic mix with the awkward cases: duplicates, twin orders, ids left out."""
    rng = random.Random(seed)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    events: list[dict[str, Any]] = []
    for i in range(count):
        customer = f"c{rng.randrange(customers)}"
        when = (start + timedelta(minutes=30 * i)).isoformat()
        roll = rng.random()
        event: dict[str, Any]
        if roll < 0.3:
            key = rng.choice(REVENUE_KEYS)
            event = {"type": "track", "userId": customer, "event": "Order Completed",
                     "properties": {key: round(rng.uniform(3, 400), 2), "currency": "EUR"}}
        elif roll < 0.75:
            event = {"type": rng.choice(["page", "screen"]), "userId": customer, "name": "Home"}
        elif roll < 0.9:
            event = {"type": "track", "userId": customer, "event": "Product Viewed",
                     "properties": {"sku": f"s{rng.randrange(50)}"}}
        else:
            event = {"type": "identify", "userId": customer,
                     "traits": {"country": rng.choice(["CN", "DE", "US"]), "plan": "pro",
                                "email": f"{customer}@example.com"}}
        event["timestamp"] = when
        event["messageId"] = f"msg-{seed}-{i}"
        events.append(event)
        if rng.random() < 0.03:  # a producer retry: the same message again
            events.append(dict(event))
        if rng.random() < 0.02 and event["type"] == "track":  # a second, identical-looking order
            events.append({**event, "messageId": f"msg-{seed}-{i}-twin"})
    for i in range(20):  # events without messageId, each published twice: both count
        event = {"type": "page", "userId": f"c{i}", "name": "Pricing",
                 "timestamp": (start + timedelta(minutes=30 * count + i)).isoformat()}
        events += [event, dict(event)]
    return events
