"""What a simulated run must end up as: each customer's persona and exact totals.

The simulator records every event it hands out, so the truth is exactly what was consumed
from it; tests and benchmarks compare the profiles the worker builds against it.
Revenue is kept in integer cents, so the sum is exact whatever the order of addition.

>>> truth = GroundTruth()
>>> truth.add_customer("u1", "regular")
>>> truth.record({"type": "page", "userId": "u1", "timestamp": "2026-01-01T10:00:00.000Z"})
>>> truth.record({"type": "track", "userId": "u1", "event": "Order Completed",
...               "timestamp": "2026-01-01T10:01:00.000Z", "properties": {"revenue": 19.99}})
>>> truth.customers["u1"].as_dict()["revenue_total"], truth.totals()["orders_total"]
(19.99, 1)
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from streamapp.events import ORDER_EVENT, REVENUE_KEYS

_PAGE_TYPES = frozenset({"page", "screen"})


@dataclass
class CustomerTruth:
    """One customer's persona and the totals its events add up to."""

    persona: str
    events_total: int = 0
    orders_total: int = 0
    revenue_cents: int = 0
    page_views: int = 0
    first_seen_at: str | None = None
    last_seen_at: str | None = None
    last_order_at: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """The totals in the profile's field names, revenue in currency units.

        >>> CustomerTruth("dormant", revenue_cents=1050).as_dict()["revenue_total"]
        10.5
        """
        return {
            "persona": self.persona,
            "events_total": self.events_total,
            "orders_total": self.orders_total,
            "revenue_total": self.revenue_cents / 100,
            "page_views": self.page_views,
            "first_seen_at": self.first_seen_at,
            "last_seen_at": self.last_seen_at,
            "last_order_at": self.last_order_at,
        }


class GroundTruth:
    """Per-customer expected totals, filled event by event."""

    def __init__(self) -> None:
        self.customers: dict[str, CustomerTruth] = {}

    def add_customer(self, customer_id: str, persona: str) -> None:
        """Declare a customer before any of its events (it may end with none)."""
        self.customers[customer_id] = CustomerTruth(persona)

    def record(self, event: Mapping[str, Any]) -> None:
        """Count one event (a Segment-spec dict) towards its customer's totals."""
        customer_id = event.get("userId") or event["anonymousId"]
        customer = self.customers[customer_id]
        at = event["timestamp"]
        customer.events_total += 1
        if customer.first_seen_at is None:
            customer.first_seen_at = at
        customer.last_seen_at = at
        if event["type"] in _PAGE_TYPES:
            customer.page_views += 1
        elif event["type"] == "track" and event.get("event") == ORDER_EVENT:
            customer.orders_total += 1
            customer.last_order_at = at
            properties = event.get("properties", {})
            amounts = (properties[k] for k in REVENUE_KEYS if properties.get(k) is not None)
            customer.revenue_cents += round(next(amounts, 0) * 100)

    def totals(self) -> dict[str, int | float]:
        """Sums over all customers.

        >>> GroundTruth().totals()["revenue_total"]
        0.0
        """
        values = self.customers.values()
        return {
            "customers": len(self.customers),
            "events_total": sum(c.events_total for c in values),
            "orders_total": sum(c.orders_total for c in values),
            "revenue_total": sum(c.revenue_cents for c in values) / 100,
            "page_views": sum(c.page_views for c in values),
        }

    def persona_counts(self) -> dict[str, int]:
        """How many customers play each persona."""
        return dict(Counter(c.persona for c in self.customers.values()))

    def as_dict(self) -> dict[str, Any]:
        """Everything, JSON-ready: totals, persona counts, and each customer."""
        return {
            "totals": self.totals(),
            "personas": self.persona_counts(),
            "customers": {cid: c.as_dict() for cid, c in self.customers.items()},
        }
