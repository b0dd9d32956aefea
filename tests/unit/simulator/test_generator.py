"""The simulator: deterministic, valid Segment events, personas that behave as named."""

from __future__ import annotations

import itertools
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest

from streamapp.events import IdentifyEvent, TrackEvent, parse_event
from streamapp.simulator import GroundTruth, customer_id, generate

START = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def run() -> tuple[list[dict[str, Any]], GroundTruth]:
    truth = GroundTruth()
    return list(generate(600, seed=11, truth=truth)), truth


def test_same_arguments_same_events() -> None:
    first = list(generate(40, seed=3, days=30))
    assert first == list(generate(40, seed=3, days=30))
    assert first != list(generate(40, seed=4, days=30))


def test_every_event_is_valid_segment_json(run: tuple[list[dict[str, Any]], GroundTruth]) -> None:
    events, _ = run
    for event in events:
        parsed = parse_event(orjson.dumps(event))
        assert parsed.customer_id == event["userId"]
        assert parsed.event_time is not None and parsed.event_time.utcoffset() == timedelta(0)
        assert event["timestamp"].endswith("Z")


def test_message_ids_are_unique(run: tuple[list[dict[str, Any]], GroundTruth]) -> None:
    events, _ = run
    assert len({e["messageId"] for e in events}) == len(events)


def test_event_time_advances_within_the_span(run: tuple[list[dict[str, Any]], GroundTruth]) -> None:
    events, _ = run
    times = [datetime.fromisoformat(e["timestamp"]) for e in events]
    assert times == sorted(times)
    assert times[0] >= START and times[-1] < START + timedelta(days=90)
    assert times[-1] - times[0] > timedelta(days=80)


def test_start_moves_event_time() -> None:
    later = datetime(2025, 6, 1, tzinfo=UTC)
    events = list(generate(10, seed=1, start=later, days=5))
    assert all(later <= datetime.fromisoformat(e["timestamp"]) < later + timedelta(days=5)
               for e in events)


def test_each_customer_is_identified_first_and_email_is_dropped(
    run: tuple[list[dict[str, Any]], GroundTruth],
) -> None:
    events, _ = run
    first: dict[str, dict[str, Any]] = {}
    identifies: dict[str, int] = defaultdict(int)
    for event in events:
        first.setdefault(event["userId"], event)
        identifies[event["userId"]] += event["type"] == "identify"
    assert all(e["type"] == "identify" for e in first.values())
    assert set(identifies.values()) == {1}
    parsed = parse_event(orjson.dumps(next(iter(first.values()))))
    assert isinstance(parsed, IdentifyEvent)
    assert "email" in parsed.traits and set(parsed.kept_traits) == {"country", "plan"}


def test_orders_carry_revenue_order_id_and_currency(
    run: tuple[list[dict[str, Any]], GroundTruth],
) -> None:
    events, _ = run
    orders = [e for e in events if e.get("event") == "Order Completed"]
    assert orders
    for order in orders:
        revenue = order["properties"]["revenue"]
        assert revenue > 0 and round(revenue, 2) == revenue
        assert order["properties"]["orderId"] and order["properties"]["currency"] == "USD"
    assert len({o["properties"]["orderId"] for o in orders}) == len(orders)
    assert any(e.get("event") == "Product Viewed" for e in events)


def test_ground_truth_equals_a_recount(run: tuple[list[dict[str, Any]], GroundTruth]) -> None:
    events, truth = run
    recount: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for raw in (orjson.dumps(e) for e in events):
        event = parse_event(raw)
        totals = recount[event.customer_id]
        totals[0] += 1
        totals[1] += event.is_order
        totals[2] += round(event.revenue * 100)
        totals[3] += event.is_page_view
    assert set(recount) <= set(truth.customers)
    for cid, customer in truth.customers.items():
        expected = recount.get(cid, [0, 0, 0, 0])
        assert [customer.events_total, customer.orders_total, customer.revenue_cents,
                customer.page_views] == expected, cid
    assert truth.totals()["events_total"] == len(events)


def test_truth_counts_only_the_events_taken() -> None:
    truth = GroundTruth()
    taken = list(itertools.islice(generate(50, seed=2, truth=truth), 123))
    assert len(taken) == 123
    assert truth.totals()["events_total"] == 123
    assert len(truth.customers) == 50


def _by_persona(truth: GroundTruth) -> dict[str, dict[str, float]]:
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for customer in truth.customers.values():
        groups[customer.persona].append(customer.as_dict())
    return {
        persona: {
            key: sum(c[key] for c in members) / len(members)
            for key in ("events_total", "orders_total", "revenue_total", "page_views")
        }
        for persona, members in groups.items()
    }


def test_personas_behave_as_named(run: tuple[list[dict[str, Any]], GroundTruth]) -> None:
    _, truth = run
    mean = _by_persona(truth)
    big, regular = mean["big_spender"], mean["regular"]
    bargain, window = mean["bargain_hunter"], mean["window_shopper"]
    assert big["revenue_total"] > 5 * regular["revenue_total"]
    assert big["orders_total"] > 2 * regular["orders_total"]
    assert bargain["orders_total"] > regular["orders_total"]
    bargain_aov = bargain["revenue_total"] / bargain["orders_total"]
    assert bargain_aov < 0.5 * regular["revenue_total"] / regular["orders_total"]
    assert window["page_views"] > 2 * regular["page_views"]
    assert window["orders_total"] < 1


def test_dormant_go_quiet_and_new_customers_start_late(
    run: tuple[list[dict[str, Any]], GroundTruth],
) -> None:
    _, truth = run
    span_end = START + timedelta(days=90)
    for customer in truth.customers.values():
        first = datetime.fromisoformat(customer.first_seen_at or "")
        last = datetime.fromisoformat(customer.last_seen_at or "")
        if customer.persona == "dormant":
            assert last < START + timedelta(days=0.2 * 90)
        if customer.persona == "new_customer":
            assert first >= START + timedelta(days=0.55 * 90)
        if customer.persona in ("big_spender", "regular"):
            assert first < START + timedelta(days=0.15 * 90)
            assert last > span_end - timedelta(days=45)


def test_customer_ids_are_stable() -> None:
    events = list(generate(3, seed=9, days=2))
    assert {e["userId"] for e in events} <= {customer_id(i) for i in (1, 2, 3)}


@pytest.mark.parametrize(
    "kwargs",
    [{"customers": -1}, {"days": 0}, {"start": datetime(2026, 1, 1)}],  # a naive start
)
def test_bad_arguments_are_refused(kwargs: dict[str, Any]) -> None:
    arguments: dict[str, Any] = {"customers": 5, "seed": 1, **kwargs}
    with pytest.raises(ValueError):
        next(generate(**arguments))


def test_orders_are_track_events() -> None:
    order = next(e for e in generate(30, seed=5) if e.get("event") == "Order Completed")
    parsed = parse_event(orjson.dumps(order))
    assert isinstance(parsed, TrackEvent) and parsed.is_order and parsed.revenue > 0
