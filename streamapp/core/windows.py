"""Orders and revenue in the last 7, 30 and 90 days, exact, in bounded memory per customer.

A customer's recent orders are kept as daily buckets (UTC day, order count, revenue in cents),
at most one per day and only for the last ``MAX_DAYS`` days, so the state never holds more than 90
entries and a typical customer's is a few dozen bytes. Windows are exact to the day: "the last 7
days" at instant ``now`` are the 7 UTC calendar days ending with today's, so an order leaves the
7-day window at midnight UTC 7 days after its day. An order dated after today (wall-clock mode,
clock skew) counts as today's.

The stored form is text a Redis script can also read: ``day:orders:cents`` entries joined by
commas, oldest first, e.g. ``"20454:1:2500,20457:2:4999"``.

>>> b = add_order((), day_of(20_000 * DAY_MS), 2_500)
>>> b = add_order(b, 20_005, 1_000)
>>> totals = window_totals(b, now_ms=20_010 * DAY_MS)
>>> totals["orders_7d"], totals["revenue_7d"], totals["orders_30d"], totals["revenue_30d"]
(1, 10.0, 2, 35.0)
>>> encode(b)
'20000:1:2500,20005:1:1000'
"""

from __future__ import annotations

from itertools import pairwise
from typing import NamedTuple

from streamapp.core.features import DAY_MS

WINDOWS_DAYS = (7, 30, 90)
MAX_DAYS = max(WINDOWS_DAYS)
WINDOW_NAMES = tuple(f"{kind}_{days}d" for kind in ("orders", "revenue") for days in WINDOWS_DAYS)


class DayBucket(NamedTuple):
    """One UTC day's orders of one customer."""

    day: int
    orders: int
    cents: int


Buckets = tuple[DayBucket, ...]


def day_of(ms: int) -> int:
    """The UTC day number (days since 1970-01-01) of an epoch-millisecond instant.

    >>> day_of(0), day_of(DAY_MS - 1), day_of(DAY_MS)
    (0, 0, 1)
    """
    return ms // DAY_MS


def _prune(buckets: list[DayBucket], newest_day: int) -> Buckets:
    return tuple(b for b in buckets if b.day > newest_day - MAX_DAYS)


def add_order(buckets: Buckets, day: int, cents: int, orders: int = 1) -> Buckets:
    """The buckets after ``orders`` orders worth ``cents`` on ``day``; days older than 90 days
    before the newest bucket are dropped.

    >>> add_order(add_order((), 10, 500), 10, 700)
    (DayBucket(day=10, orders=2, cents=1200),)
    >>> add_order(((DayBucket(10, 1, 5),)), 100, 1)
    (DayBucket(day=100, orders=1, cents=1),)
    """
    merged = {b.day: b for b in buckets}
    old = merged.get(day, DayBucket(day, 0, 0))
    merged[day] = DayBucket(day, old.orders + orders, old.cents + cents)
    ordered = sorted(merged.values())
    return _prune(ordered, ordered[-1].day)


def merge(left: Buckets, right: Buckets) -> Buckets:
    """Both customers' buckets as one (an identity merge): same-day buckets add up.

    >>> merge((DayBucket(5, 1, 100),), (DayBucket(5, 2, 50), DayBucket(6, 1, 1)))
    (DayBucket(day=5, orders=3, cents=150), DayBucket(day=6, orders=1, cents=1))
    """
    out = left
    for bucket in right:
        out = add_order(out, bucket.day, bucket.cents, bucket.orders)
    return out


def window_totals(buckets: Buckets, now_ms: int) -> dict[str, int | float]:
    """``orders_7d`` … ``revenue_90d`` as of ``now_ms`` (revenue in currency units).

    >>> window_totals((), 0)["revenue_90d"]
    0.0
    """
    today = day_of(now_ms)
    orders = [0] * len(WINDOWS_DAYS)
    cents = [0] * len(WINDOWS_DAYS)
    # One pass over the buckets: this runs for every customer of every batch with audiences, and
    # several times more while the next wake-up is searched for.
    for day, day_orders, day_cents in buckets:
        for i, days in enumerate(WINDOWS_DAYS):
            if day > today - days:
                orders[i] += day_orders
                cents[i] += day_cents
    return dict(zip(WINDOW_NAMES, [*orders, *(c / 100 for c in cents)], strict=True))


def window_changes(buckets: Buckets, now_ms: int,
                   windows_days: tuple[int, ...] = WINDOWS_DAYS) -> list[int]:
    """The instants after ``now_ms`` at which an order leaves one of the windows, earliest first.

    >>> [day_of(t) for t in window_changes((DayBucket(10, 1, 100),), 12 * DAY_MS)]
    [17, 40, 100]
    >>> [day_of(t) for t in window_changes((DayBucket(10, 1, 100),), 12 * DAY_MS, (30,))]
    [40]
    """
    today = day_of(now_ms)
    leave = {(b.day + days) * DAY_MS for b in buckets for days in windows_days
             if b.day > today - days}
    return sorted(t for t in leave if t > now_ms)


def encode(buckets: Buckets) -> str:
    """The compact text form, oldest day first.

    >>> encode((DayBucket(20454, 1, 2500),))
    '20454:1:2500'
    """
    return ",".join(f"{b.day}:{b.orders}:{b.cents}" for b in sorted(buckets))


def decode(text: str) -> Buckets:
    """Buckets from ``encode``'s text (empty text: no buckets); ``ValueError`` if malformed.

    >>> decode("20454:1:2500,20457:2:4999")[1]
    DayBucket(day=20457, orders=2, cents=4999)
    >>> decode("")
    ()
    >>> decode("9:1:5,3:1:5,9:1:1")  # not as encode writes it: merged and sorted as add_order does
    (DayBucket(day=3, orders=1, cents=5), DayBucket(day=9, orders=2, cents=6))
    """
    if not text:
        return ()
    parsed: list[DayBucket] = []
    for entry in text.split(","):
        parts = entry.split(":")
        if len(parts) != 3:
            raise ValueError(f"window bucket {entry!r} is not day:orders:cents")
        day, orders, cents = (int(p) for p in parts)
        parsed.append(DayBucket(day, orders, cents))
    # ``encode``'s own text (days increasing, within MAX_DAYS of the newest) is already what
    # add_order would build; anything else is rebuilt through it.
    days = [b.day for b in parsed]
    if all(a < b for a, b in pairwise(days)) and days[0] > days[-1] - MAX_DAYS:
        return tuple(parsed)
    buckets: Buckets = ()
    for bucket in parsed:
        buckets = add_order(buckets, bucket.day, bucket.cents, bucket.orders)
    return buckets
