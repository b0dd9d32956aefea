"""A customer's features: the exact counters kept per customer, and what is derived from them.

Counters (``Counters``) are what storage keeps and updates idempotently; derived features (averages,
days since) depend on "now" and are computed on read, so they never go stale in storage.

>>> c = Counters().apply(EventFact.order("u1", 0, 1, "m1", DAY_MS * 10, 25.0))
>>> c = c.apply(EventFact.order("u1", 0, 2, "m2", DAY_MS * 12, 35.0))
>>> f = derive(c, now_ms=DAY_MS * 14)
>>> f["orders_total"], f["revenue_total"], f["avg_order_value"], f["days_since_last_order"]
(2, 60.0, 30.0, 2.0)
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime

import numpy as np

from streamapp.core.facts import EventFact

DAY_MS = 86_400_000

# The model's inputs, in order. Log scaling tames the long tails of money and counts so that one
# whale does not own a centre; recency falls back to days since first seen for customers who never
# ordered, which keeps browsers comparable with buyers.
FEATURE_NAMES = ("monetary", "frequency", "recency", "activity", "browsing")


# Not frozen, as EventFact (streamapp.core.facts): one is built per customer and batch.
@dataclass(slots=True)
class Counters:
    """The exact, additive state of one customer; times are epoch milliseconds (0 = never)."""

    events_total: int = 0
    orders_total: int = 0
    revenue_cents: int = 0
    page_views: int = 0
    first_seen_ms: int = 0
    last_seen_ms: int = 0
    last_order_ms: int = 0

    def apply(self, fact: EventFact) -> Counters:
        """The counters after one more event (no idempotence here: storage decides what applies)."""
        return replace(
            self,
            events_total=self.events_total + 1,
            orders_total=self.orders_total + fact.is_order,
            revenue_cents=self.revenue_cents + fact.revenue_cents,
            page_views=self.page_views + fact.is_page_view,
            first_seen_ms=min(self.first_seen_ms or fact.time_ms, fact.time_ms),
            last_seen_ms=max(self.last_seen_ms, fact.time_ms),
            last_order_ms=max(self.last_order_ms, fact.time_ms) if fact.is_order
            else self.last_order_ms,
        )


# Below 2**32 s a float of ms / 1000 is within half a microsecond of the exact instant, so
# ``datetime.fromtimestamp`` lands on the exact millisecond and the hand-made text below is the
# same as its ``isoformat``; beyond that, and for anything but an int, datetime formats.
_ISO_EXACT_BELOW_MS = 2**32 * 1000
_ISO_DAYS_KEPT = 4096
_iso_days: dict[int, str] = {}
_TWO_DIGITS = tuple(f"{n:02d}" for n in range(60))


def iso(ms: int) -> str | None:
    """Epoch milliseconds as ISO-8601 UTC, ``None`` for 0 (never).

    >>> iso(0), iso(DAY_MS), iso(DAY_MS + 1)
    (None, '1970-01-02T00:00:00+00:00', '1970-01-02T00:00:00.001000+00:00')
    """
    if not ms:
        return None
    if type(ms) is not int or not 0 < ms < _ISO_EXACT_BELOW_MS:
        return datetime.fromtimestamp(ms / 1000, UTC).isoformat()
    # Formatting through datetime cost about a microsecond per date, and a change event has five;
    # the date part is the same for a whole day of events, so only the time is formatted here.
    day, in_day = divmod(ms, DAY_MS)
    date = _iso_days.get(day)
    if date is None:
        if len(_iso_days) >= _ISO_DAYS_KEPT:
            _iso_days.clear()
        date = _iso_days[day] = datetime.fromtimestamp(day * 86_400, UTC).isoformat()[:11]
    seconds, millis = divmod(in_day, 1000)
    hours, seconds = divmod(seconds, 3600)
    minutes, seconds = divmod(seconds, 60)
    clock = f"{date}{_TWO_DIGITS[hours]}:{_TWO_DIGITS[minutes]}:{_TWO_DIGITS[seconds]}"
    return f"{clock}.{millis:03d}000+00:00" if millis else f"{clock}+00:00"


def _days(later_ms: int, earlier_ms: int) -> float:
    return round(max(later_ms - earlier_ms, 0) / DAY_MS, 3)


def derive(counters: Counters, now_ms: int) -> dict[str, float | int | str | None]:
    """The profile's features as DESIGN.md lists them, as of ``now_ms``.

    >>> derive(Counters(), now_ms=0)["avg_order_value"]
    0.0
    """
    c = counters
    return {
        **numeric_features(c, now_ms),
        "first_seen_at": iso(c.first_seen_ms),
        "last_seen_at": iso(c.last_seen_ms),
        "last_order_at": iso(c.last_order_ms),
    }


def numeric_features(counters: Counters, now_ms: int) -> dict[str, float | int | None]:
    """The features conditions can compare: ``derive`` without the ISO dates, which are costly to
    format and which no condition reads.

    >>> numeric_features(Counters(orders_total=2, revenue_cents=1001), 0)["avg_order_value"]
    5.0
    """
    c = counters
    orders = c.orders_total
    return {
        "events_total": c.events_total,
        "orders_total": orders,
        "revenue_total": c.revenue_cents / 100,
        "page_views": c.page_views,
        "avg_order_value": round(c.revenue_cents / 100 / orders, 2) if orders else 0.0,
        **recency_features(c, now_ms),
    }


def recency_features(counters: Counters, now_ms: int) -> dict[str, float | None]:
    """The features of ``numeric_features`` that grow with time alone: days since, and tenure.

    >>> recency_features(Counters(first_seen_ms=DAY_MS, last_seen_ms=DAY_MS), 3 * DAY_MS)
    {'days_since_last_order': None, 'days_since_last_seen': 2.0, 'tenure_days': 2.0}
    """
    c = counters
    return {
        "days_since_last_order": _days(now_ms, c.last_order_ms) if c.last_order_ms else None,
        "days_since_last_seen": _days(now_ms, c.last_seen_ms) if c.last_seen_ms else None,
        "tenure_days": _days(now_ms, c.first_seen_ms) if c.first_seen_ms else 0.0,
    }


def feature_vector(counters: Counters, now_ms: int) -> list[float]:
    """The model's input for one customer, in the order of ``FEATURE_NAMES``.

    >>> [round(v, 3) for v in feature_vector(Counters(3, 1, 5000, 2, 0, DAY_MS, DAY_MS), DAY_MS)]
    [3.932, 0.693, 0.0, 1.386, 1.099]
    """
    return [float(v) for v in feature_matrix([counters], now_ms)[0]]


def feature_matrix(counters: list[Counters], now_ms: int) -> np.ndarray:
    """``feature_vector`` for many customers at once, as an (n, 5) float array.

    >>> feature_matrix([Counters(), Counters(1)], 0).shape
    (2, 5)
    """
    if not counters:
        return np.zeros((0, len(FEATURE_NAMES)))
    raw = np.array(
        [(c.revenue_cents, c.orders_total, c.last_order_ms or c.first_seen_ms, c.events_total,
          c.page_views) for c in counters],
        dtype=np.float64,
    )
    out = np.empty_like(raw)
    out[:, 0] = np.log1p(raw[:, 0] / 100)
    out[:, 1] = np.log1p(raw[:, 1])
    out[:, 2] = np.log1p(np.maximum(now_ms - raw[:, 2], 0) / DAY_MS)
    out[:, 3] = np.log1p(raw[:, 3])
    out[:, 4] = np.log1p(raw[:, 4])
    return out
