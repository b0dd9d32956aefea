"""The benchmark's input: Segment-spec events over a population of customers, fast to make.

The simulator (``streamapp.simulator``) plays customers in event-time order, which is realistic but
too slow for half a million events and covers only the customers active early in its span. Here
customers are drawn uniformly, so every one of them is seen about ``events / customers`` times and
each batch of 1,000 touches about 1,000 distinct profiles: the worst case for batching. The mix of
event types follows the simulator's personas on average (about one order per ten events).

>>> records = make_records(1000, 100, seed=1)
>>> len(records), len({key for key, _ in records}) == 100
(1000, True)
>>> import orjson
>>> first = orjson.loads(records[0][1])
>>> first["type"], first["userId"] == records[0][0].decode()
('identify', True)
"""

from __future__ import annotations

import random
import uuid
from typing import Any

import orjson

from streamapp.simulator.generator import COUNTRIES, PAGES, PRODUCTS, iso_ms

START_MS = 1_767_225_600_000  # 2026-01-01T00:00:00Z
STEP_MS = 1_000  # event time advances one second per event: a steady, ordered stream


def bench_customer_id(index: int) -> str:
    """The id of the ``index``-th benchmark customer.

    >>> bench_customer_id(7)
    'bench-0000007'
    """
    return f"bench-{index:07d}"


def event_body(rng: random.Random, customer: str, first: bool, at_ms: int,
               message_id: str) -> dict[str, Any]:
    """One event of ``customer``: an identify on first sight, else a page, a view or an order."""
    base: dict[str, Any] = {"userId": customer, "messageId": message_id,
                            "timestamp": iso_ms(at_ms)}
    if first:
        return {"type": "identify", **base,
                "traits": {"country": rng.choice(COUNTRIES), "plan": "free",
                           "email": f"{customer}@example.com"}}
    draw = rng.random()
    if draw < 0.5:
        name, path = rng.choice(PAGES)
        return {"type": "page", **base, "name": name, "properties": {"path": path}}
    if draw < 0.9:
        product_id, name, category, price = rng.choice(PRODUCTS)
        return {"type": "track", **base, "event": "Product Viewed",
                "properties": {"productId": product_id, "name": name, "category": category,
                               "price": price}}
    return {"type": "track", **base, "event": "Order Completed",
            "properties": {"orderId": message_id[:12], "revenue": round(rng.uniform(5, 300), 2),
                           "currency": "USD"}}


def make_records(events: int, customers: int, seed: int,
                 start_ms: int = START_MS) -> list[tuple[bytes, bytes]]:
    """``events`` (key, JSON value) records over ``customers`` customers, in event-time order.

    The first ``customers`` events introduce every customer once (in a shuffled order), so the
    population is complete whenever ``events >= customers``.
    """
    rng = random.Random(seed)
    order = list(range(1, customers + 1))
    rng.shuffle(order)
    seen = bytearray(customers + 1)
    out: list[tuple[bytes, bytes]] = []
    for i in range(events):
        index = order[i] if i < customers else rng.randint(1, customers)
        customer = bench_customer_id(index)
        message_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        body = event_body(rng, customer, not seen[index], start_ms + i * STEP_MS, message_id)
        seen[index] = 1
        out.append((customer.encode(), orjson.dumps(body)))
    return out


def make_population_records(customers: int, events: int, active: int,
                            seed: int) -> list[tuple[bytes, bytes]]:
    """One event for each of ``customers`` customers, then ``events`` events among the first
    ``active`` of them: the scaling runs' input.

    The ``events`` part and the first events of the ``active`` customers are the same whatever
    ``customers`` is (same ids, bodies and times), so two populations differ only in how many
    other customers Redis holds: the rate over that part shows how cost grows with the
    population, not with which customers happen to be drawn.

    >>> small = make_population_records(100, 50, active=20, seed=3)
    >>> large = make_population_records(1000, 50, active=20, seed=3)
    >>> len(small), len(large), small[100:] == large[1000:]
    (150, 1050, True)
    >>> {key for key, _ in small[100:]} <= {bench_customer_id(i).encode() for i in range(1, 21)}
    True
    """
    shared = random.Random(seed)
    order = list(range(1, customers + 1))
    shared.shuffle(order)
    out: list[tuple[bytes, bytes]] = []
    for index in order:
        customer = bench_customer_id(index)
        # An active customer's first event depends on its index alone, so it is the same in
        # every population; every first event falls within the active customers' span.
        at_ms = START_MS + (index - 1) % active * STEP_MS
        rng = random.Random(index) if index <= active else shared
        body = event_body(rng, customer, True, at_ms, f"intro-{seed}-{index}")
        out.append((customer.encode(), orjson.dumps(body)))
    rng = random.Random(seed + 1)
    begin_ms = START_MS + active * STEP_MS
    for i in range(events):
        customer = bench_customer_id(rng.randint(1, active))
        message_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        body = event_body(rng, customer, False, begin_ms + i * STEP_MS, message_id)
        out.append((customer.encode(), orjson.dumps(body)))
    return out


# What starts a latency probe's customer id and messageId: no workload event has it.
PROBE_PREFIX = "probe-"


def probe_record(serial: int, at_ms: int) -> tuple[str, tuple[bytes, bytes]]:
    """(messageId, record) of a latency probe: the first event of a new customer.

    A customer's first event always produces an ``entered`` change event whose
    ``cause_message_id`` is the probe's messageId, so every probe can be matched.

    >>> mid, (key, value) = probe_record(3, START_MS)
    >>> key, mid
    (b'probe-00000003', 'probe-3')
    """
    customer = f"{PROBE_PREFIX}{serial:08d}"
    message_id = f"{PROBE_PREFIX}{serial}"
    body = {"type": "page", "userId": customer, "messageId": message_id,
            "timestamp": iso_ms(at_ms), "name": "Home", "properties": {"path": "/"}}
    return message_id, (customer.encode(), orjson.dumps(body))
