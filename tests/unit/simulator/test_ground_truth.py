"""Ground truth bookkeeping: exact cents, revenue fallbacks, JSON shape."""

from __future__ import annotations

import orjson

from streamapp.simulator import GroundTruth


def _order(customer: str, at: str, **properties: object) -> dict[str, object]:
    return {"type": "track", "userId": customer, "event": "Order Completed", "timestamp": at,
            "properties": properties}


def test_revenue_is_summed_exactly_in_cents() -> None:
    truth = GroundTruth()
    truth.add_customer("u1", "regular")
    for _ in range(10):
        truth.record(_order("u1", "2026-01-01T00:00:00Z", revenue=0.1))
    assert truth.customers["u1"].revenue_cents == 100
    assert truth.totals()["revenue_total"] == 1.0


def test_total_and_value_count_as_revenue_like_the_worker() -> None:
    truth = GroundTruth()
    truth.add_customer("u1", "regular")
    truth.record(_order("u1", "2026-01-01T00:00:00Z", total=5.5))
    truth.record(_order("u1", "2026-01-02T00:00:00Z", value=4.5))
    truth.record({"type": "screen", "anonymousId": "u1", "timestamp": "2026-01-03T00:00:00Z"})
    customer = truth.customers["u1"]
    assert (customer.orders_total, customer.revenue_cents, customer.page_views) == (2, 1000, 1)
    assert customer.last_order_at == "2026-01-02T00:00:00Z"
    assert customer.last_seen_at == "2026-01-03T00:00:00Z"


def test_customers_without_events_are_kept() -> None:
    truth = GroundTruth()
    truth.add_customer("quiet", "new_customer")
    dumped = orjson.loads(orjson.dumps(truth.as_dict()))
    assert dumped["customers"]["quiet"]["events_total"] == 0
    assert dumped["personas"] == {"new_customer": 1}
    assert dumped["totals"]["customers"] == 1
