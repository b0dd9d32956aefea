"""Simulated customers' events, in event-time order, deterministic for a seed.

Each customer visits in sessions (a Poisson process at its persona's rate, within the part of
the span its persona is active); a session is a few page views and ``Product Viewed`` tracks,
sometimes ending in an ``Order Completed``. The first session opens with an ``identify``.
Event time starts at ``start`` and runs ``days`` of simulated time, so recency-based segments
evolve as the stream plays.

Why a heap of sessions rather than one generator per customer: only customers in a session hold
events in memory, so a population of 100 000 costs a heap entry each, not a frame and a list.

>>> events = list(generate(6, seed=1, days=7))
>>> events == list(generate(6, seed=1, days=7))
True
>>> len({e["messageId"] for e in events}) == len(events)
True
>>> all(a["timestamp"] <= b["timestamp"] for a, b in zip(events, events[1:]))
True
"""

from __future__ import annotations

import heapq
import math
import random
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from streamapp.events import ORDER_EVENT
from streamapp.simulator.ground_truth import GroundTruth
from streamapp.simulator.personas import Persona, assign_personas

DEFAULT_START = datetime(2026, 1, 1, tzinfo=UTC)
DEFAULT_DAYS = 90.0
CURRENCY = "USD"
DAY_MS = 86_400_000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# Seconds between two events of one session, drawn uniformly.
_STEP_MS = (5_000, 120_000)
# Between the end of one session and the start of the next; keeps a customer's events in order.
_MIN_GAP_MS = 30 * 60_000
COUNTRIES = ("US", "US", "US", "GB", "DE", "FR", "ES", "NL", "CN", "BR", "IN", "JP")
PAGES = (("Home", "/"), ("Search", "/search"), ("Deals", "/deals"), ("Cart", "/cart"))
# (productId, name, category, price)
PRODUCTS = (
    ("p-1001", "Espresso beans 1 kg", "coffee", 24.9),
    ("p-1002", "Pour-over kettle", "coffee", 59.0),
    ("p-2001", "Merino socks", "apparel", 14.5),
    ("p-2002", "Rain jacket", "apparel", 129.0),
    ("p-3001", "Desk lamp", "home", 39.9),
    ("p-3002", "Linen bedding set", "home", 149.0),
    ("p-4001", "Trail running shoes", "sport", 119.0),
    ("p-4002", "Yoga mat", "sport", 29.9),
)


def customer_id(index: int) -> str:
    """The userId of the ``index``-th simulated customer (from 1).

    >>> customer_id(42)
    'cust-000042'
    """
    return f"cust-{index:06d}"


def iso_ms(ms: int) -> str:
    """Milliseconds since the Unix epoch as ISO-8601 UTC with a ``Z``.

    >>> iso_ms(1_767_225_600_123)
    '2026-01-01T00:00:00.123Z'
    """
    return (_EPOCH + timedelta(milliseconds=ms)).isoformat(timespec="milliseconds")[:-6] + "Z"


def generate(
    customers: int,
    seed: int,
    *,
    start: datetime = DEFAULT_START,
    days: float = DEFAULT_DAYS,
    truth: GroundTruth | None = None,
) -> Iterator[dict[str, Any]]:
    """Yield Segment-spec event dicts of ``customers`` customers, oldest first.

    Same arguments, same events. When ``truth`` is given, every customer is declared in it up
    front and every event is recorded just before it is yielded, so it describes exactly the
    events consumed so far.
    """
    if customers < 0 or not days > 0 or start.utcoffset() is None:
        raise ValueError("need customers >= 0, days > 0 and a start with a time zone")
    start_ms = (start - _EPOCH) // timedelta(milliseconds=1)
    span_ms = round(days * DAY_MS)
    span_end = start_ms + span_ms
    rng = random.Random()
    personas = assign_personas(customers, seed)
    anonymous_ids: list[str] = []
    active_until: list[int] = []
    heap: list[tuple[int, int, int, dict[str, Any] | None]] = []
    for index, persona in enumerate(personas, start=1):
        rng.seed(f"{seed}:{index}")
        begin = start_ms + round(span_ms * rng.uniform(*persona.active_from))
        until = start_ms + round(span_ms * rng.uniform(*persona.active_until))
        active_until.append(min(span_end, until))
        anonymous_ids.append(str(uuid.UUID(int=rng.getrandbits(128), version=4)))
        if truth is not None:
            truth.add_customer(customer_id(index), persona.name)
        # Heap entries: (time, customer index, session number or -1 for an event, event).
        heap.append((begin, index, 0, None))
    heapq.heapify(heap)
    while heap:
        at, index, session, event = heapq.heappop(heap)
        if event is not None:
            if truth is not None:
                truth.record(event)
            yield event
            continue
        # A session starts: draw it whole from its own seed, so its content does not depend
        # on how sessions of different customers interleave.
        rng.seed(f"{seed}:{index}:{session}")
        base = {"userId": customer_id(index), "anonymousId": anonymous_ids[index - 1]}
        persona = personas[index - 1]
        for event_at, body in _session(rng, persona, index, session, at):
            if event_at >= span_end:
                break
            event = {
                "type": body.pop("type"),
                "messageId": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                "timestamp": iso_ms(event_at),
                **base,
                **body,
            }
            heapq.heappush(heap, (event_at, index, -1, event))
            at = event_at
        gap_ms = _MIN_GAP_MS + round(rng.expovariate(persona.sessions_per_day) * DAY_MS)
        if at + gap_ms < active_until[index - 1]:
            heapq.heappush(heap, (at + gap_ms, index, session + 1, None))


def _session(
    rng: random.Random, persona: Persona, index: int, session: int, at: int
) -> Iterator[tuple[int, dict[str, Any]]]:
    """The events of one session from ``at``: (event time in ms, event without ids)."""
    if session == 0:
        plans, weights = zip(*persona.plans, strict=True)
        traits = {
            "country": rng.choice(COUNTRIES),
            "plan": rng.choices(plans, weights)[0],
            # Real apps send e-mails in traits; the worker must drop them (not allowlisted).
            "email": f"{customer_id(index)}@example.com",
        }
        yield at, {"type": "identify", "traits": traits}
        at += rng.randint(*_STEP_MS)
    steps = ["page"] * rng.randint(*persona.pages_per_session)
    steps += ["product"] * rng.randint(*persona.product_views_per_session)
    rng.shuffle(steps)
    for step in steps:
        if step == "page":
            name, path = rng.choice(PAGES)
            yield at, {"type": "page", "name": name, "properties": {"path": path}}
        else:
            product_id, name, category, price = rng.choice(PRODUCTS)
            properties = {
                "productId": product_id,
                "name": name,
                "category": category,
                "price": price,
            }
            yield at, {"type": "track", "event": "Product Viewed", "properties": properties}
        at += rng.randint(*_STEP_MS)
    if rng.random() < persona.order_probability:
        properties = _order(rng, persona, index, session)
        yield at, {"type": "track", "event": ORDER_EVENT, "properties": properties}


def _order(rng: random.Random, persona: Persona, index: int, session: int) -> dict[str, Any]:
    amount = rng.lognormvariate(math.log(persona.order_median), persona.order_spread)
    revenue = max(1.0, round(amount, 2))
    properties: dict[str, Any] = {
        "orderId": f"ord-{index:06d}-{session:04d}",
        "revenue": revenue,
        "currency": CURRENCY,
    }
    if rng.random() < persona.coupon_probability:
        properties["coupon"] = "SAVE10"
        properties["discount"] = round(revenue / 9, 2)
    return properties
