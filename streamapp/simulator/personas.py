"""The kinds of customers the simulator plays, and how many of each a population holds.

A persona is a handful of rates (sessions a day, page and product views a session, the chance
a session ends in an order, the order size) plus the part of the simulated span in which the
customer is active. Dormant customers stop early; new customers start late.

>>> [p.name for p in PERSONAS]
['big_spender', 'regular', 'bargain_hunter', 'window_shopper', 'dormant', 'new_customer']
>>> round(sum(p.share for p in PERSONAS), 6)
1.0
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass


@dataclass(frozen=True)
class Persona:
    """How one kind of customer behaves; fractions of the span are in ``[0, 1]``."""

    name: str
    share: float
    sessions_per_day: float
    pages_per_session: tuple[int, int]
    product_views_per_session: tuple[int, int]
    order_probability: float
    order_median: float
    order_spread: float
    active_from: tuple[float, float]
    active_until: tuple[float, float]
    plans: tuple[tuple[str, float], ...]
    coupon_probability: float = 0.0


PERSONAS: tuple[Persona, ...] = (
    Persona(
        "big_spender", 0.08, sessions_per_day=0.35, pages_per_session=(1, 3),
        product_views_per_session=(1, 3), order_probability=0.7, order_median=180.0,
        order_spread=0.45, active_from=(0.0, 0.1), active_until=(1.0, 1.0),
        plans=(("business", 0.5), ("pro", 0.4), ("free", 0.1)),
    ),
    Persona(
        "regular", 0.30, sessions_per_day=0.12, pages_per_session=(1, 3),
        product_views_per_session=(0, 2), order_probability=0.5, order_median=55.0,
        order_spread=0.3, active_from=(0.0, 0.15), active_until=(1.0, 1.0),
        plans=(("pro", 0.5), ("free", 0.4), ("business", 0.1)),
    ),
    Persona(
        "bargain_hunter", 0.17, sessions_per_day=0.25, pages_per_session=(1, 3),
        product_views_per_session=(1, 2), order_probability=0.65, order_median=14.0,
        order_spread=0.35, active_from=(0.0, 0.15), active_until=(1.0, 1.0),
        plans=(("free", 0.8), ("pro", 0.2)), coupon_probability=0.6,
    ),
    Persona(
        "window_shopper", 0.20, sessions_per_day=0.15, pages_per_session=(3, 7),
        product_views_per_session=(1, 4), order_probability=0.02, order_median=35.0,
        order_spread=0.3, active_from=(0.0, 0.15), active_until=(1.0, 1.0),
        plans=(("free", 0.9), ("pro", 0.1)),
    ),
    Persona(
        "dormant", 0.13, sessions_per_day=0.35, pages_per_session=(1, 3),
        product_views_per_session=(0, 2), order_probability=0.35, order_median=45.0,
        order_spread=0.35, active_from=(0.0, 0.05), active_until=(0.08, 0.2),
        plans=(("free", 0.7), ("pro", 0.3)),
    ),
    Persona(
        "new_customer", 0.12, sessions_per_day=0.25, pages_per_session=(1, 4),
        product_views_per_session=(0, 2), order_probability=0.4, order_median=60.0,
        order_spread=0.35, active_from=(0.55, 0.9), active_until=(1.0, 1.0),
        plans=(("free", 0.6), ("pro", 0.4)),
    ),
)  # fmt: skip


def persona_counts(customers: int) -> dict[str, int]:
    """How many customers of each persona a population of ``customers`` holds.

    Shares are apportioned by largest remainder, and once there are at least as many customers
    as personas every persona is present, so even a tiny demo shows every behaviour.

    >>> list(persona_counts(100).values())
    [8, 30, 17, 20, 13, 12]
    >>> list(persona_counts(6).values())
    [1, 1, 1, 1, 1, 1]
    >>> sum(persona_counts(1001).values())
    1001
    """
    if customers < 0:
        raise ValueError(f"customers must be >= 0, got {customers}")
    floor = 1 if customers >= len(PERSONAS) else 0
    ideal = [p.share * customers for p in PERSONAS]
    counts = [max(floor, math.floor(x)) for x in ideal]
    by_remainder = sorted(range(len(PERSONAS)), key=lambda i: counts[i] - ideal[i])
    while sum(counts) < customers:
        counts[by_remainder.pop(0)] += 1
    while sum(counts) > customers:
        largest = max(range(len(PERSONAS)), key=lambda i: counts[i])
        counts[largest] -= 1
    return {p.name: n for p, n in zip(PERSONAS, counts, strict=True)}


def assign_personas(customers: int, seed: int) -> list[Persona]:
    """The persona of each of ``customers`` customers, shuffled deterministically by ``seed``.

    >>> [p.name for p in assign_personas(3, seed=1)] == [p.name for p in assign_personas(3, 1)]
    True
    >>> len(assign_personas(250, seed=7))
    250
    """
    by_name = {p.name: p for p in PERSONAS}
    population = [
        by_name[name] for name, count in persona_counts(customers).items() for _ in range(count)
    ]
    random.Random(f"personas:{seed}").shuffle(population)
    return population
