"""RFM scores (recency, frequency, monetary; 1–5 each) from population histograms kept online.

Each buyer contributes one count per dimension to a sparse histogram: recency by the UTC day of the
last order (exact days; a later day is more recent, so the histogram never goes stale as time
passes), frequency and monetary by log-scale bins of the order count and the revenue in cents
(``BINS_PER_DECADE`` bins per factor of ten, ~15% wide). The state is just counts keyed by field
name (``"r:20454"``, ``"f:4"``, ``"m:55"``), so workers share it as one Redis hash updated with
HINCRBY deltas, and merging two states is adding their counts. When a customer's values change,
the old values leave (``remove``) and the new ones enter (``add``); ``delta`` gives both at once.

A score is the customer's mid-rank percentile ``p`` in that dimension (share of buyers below, plus
half of those in the same bin) mapped to ``1 + floor(5 p)``, capped at 5: higher is better in all
three (more recent, more orders, more money). Customers who never ordered have no RFM.

Named segments come from R and FM = round-half-up of (F + M) / 2, on this grid:

=====  ==============  ==================  ==================  =========  ===============
R\\FM   1               2                   3                   4          5
=====  ==============  ==================  ==================  =========  ===============
5      New Customers   Potential Loyalist  Potential Loyalist  Champions  Champions
4      Promising       Potential Loyalist  Potential Loyalist  Loyal      Champions
3      About to Sleep  About to Sleep      Need Attention      Loyal      Loyal
2      Hibernating     Hibernating         At Risk             At Risk    Can't Lose Them
1      Lost            Lost                At Risk             At Risk    Can't Lose Them
=====  ==============  ==================  ==================  =========  ===============

>>> q = RfmQuantiles()
>>> for n in range(1, 11):
...     q.add(RfmValues(last_order_day=100 + n, orders=n, revenue_cents=1_000 * n))
>>> q.score(RfmValues(110, 10, 10_000))
RfmScore(r=5, f=5, m=5, segment='Champions')
>>> q.score(RfmValues(101, 1, 1_000))
RfmScore(r=1, f=1, m=1, segment='Lost')
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections.abc import Mapping
from typing import NamedTuple

from streamapp.core.features import DAY_MS, Counters

BINS_PER_DECADE = 16
DIMENSIONS = ("r", "f", "m")

SEGMENT_GRID: tuple[tuple[str, ...], ...] = (  # rows R = 1..5, columns FM = 1..5
    ("Lost", "Lost", "At Risk", "At Risk", "Can't Lose Them"),
    ("Hibernating", "Hibernating", "At Risk", "At Risk", "Can't Lose Them"),
    ("About to Sleep", "About to Sleep", "Need Attention", "Loyal", "Loyal"),
    ("Promising", "Potential Loyalist", "Potential Loyalist", "Loyal", "Champions"),
    ("New Customers", "Potential Loyalist", "Potential Loyalist", "Champions", "Champions"),
)


class RfmValues(NamedTuple):
    """What RFM ranks a buyer by."""

    last_order_day: int
    orders: int
    revenue_cents: int


class RfmScore(NamedTuple):
    """A buyer's scores and named segment."""

    r: int
    f: int
    m: int
    segment: str

    def as_dict(self) -> dict[str, int | str]:
        """The profile's ``rfm`` object.

        >>> RfmScore(5, 4, 5, "Champions").as_dict()
        {'r': 5, 'f': 4, 'm': 5, 'segment': 'Champions'}
        """
        return self._asdict()


def rfm_values(counters: Counters) -> RfmValues | None:
    """A customer's RFM inputs, or None if they never ordered.

    >>> rfm_values(Counters(orders_total=2, revenue_cents=500, last_order_ms=3 * DAY_MS + 5))
    RfmValues(last_order_day=3, orders=2, revenue_cents=500)
    """
    if not counters.orders_total:
        return None
    return RfmValues(counters.last_order_ms // DAY_MS, counters.orders_total,
                     counters.revenue_cents)


def _log_bin(value: int) -> int:
    return math.floor(BINS_PER_DECADE * math.log10(value)) if value > 0 else -1


def fields(values: RfmValues) -> tuple[str, str, str]:
    """The histogram fields (hash keys) one buyer counts in.

    >>> fields(RfmValues(20454, 3, 4999))
    ('r:20454', 'f:7', 'm:59')
    """
    return (f"r:{values.last_order_day}", f"f:{_log_bin(values.orders)}",
            f"m:{_log_bin(values.revenue_cents)}")


def segment_name(r: int, f: int, m: int) -> str:
    """The named segment for scores 1–5.

    >>> segment_name(1, 5, 5), segment_name(5, 1, 1), segment_name(3, 3, 2)
    ("Can't Lose Them", 'New Customers', 'Need Attention')
    """
    fm = (f + m + 1) // 2
    return SEGMENT_GRID[r - 1][fm - 1]


def delta(old: RfmValues | None, new: RfmValues | None) -> dict[str, int]:
    """The count changes when a customer's values go from ``old`` to ``new`` (None: absent).

    >>> delta(RfmValues(10, 1, 100), RfmValues(12, 2, 100))
    {'r:10': -1, 'f:0': -1, 'r:12': 1, 'f:4': 1}
    """
    out: dict[str, int] = {}
    for values, sign in ((old, -1), (new, 1)):
        for name in fields(values) if values is not None else ():
            out[name] = out.get(name, 0) + sign
    return {name: n for name, n in out.items() if n}


class RfmQuantiles:
    """The population's RFM histograms: mergeable counts, scores from their cumulative shares."""

    def __init__(self, counts: Mapping[str, int] | None = None) -> None:
        self.counts: dict[str, int] = {}
        self._tables: dict[str, tuple[list[int], list[int], int]] = {}
        self.apply(counts or {})

    def apply(self, changes: Mapping[str, int]) -> None:
        """Add count changes (a ``delta``, or a whole state read back from storage).

        >>> q = RfmQuantiles({"r:1": 2}); q.apply({"r:1": -2, "f:0": 1}); q.counts
        {'f:0': 1}
        """
        for name, n in changes.items():
            total = self.counts.get(name, 0) + int(n)
            if total:
                self.counts[name] = total
            else:
                self.counts.pop(name, None)
        self._tables.clear()

    def add(self, values: RfmValues) -> None:
        """Count one buyer."""
        self.apply(delta(None, values))

    def remove(self, values: RfmValues) -> None:
        """Forget one buyer's previous values."""
        self.apply(delta(values, None))

    def merge(self, other: RfmQuantiles) -> RfmQuantiles:
        """Both populations' histograms together (as two workers' states add up).

        >>> a, b = RfmQuantiles({"f:0": 1}), RfmQuantiles({"f:0": 2, "m:3": 1})
        >>> a.merge(b).counts
        {'f:0': 3, 'm:3': 1}
        """
        merged = RfmQuantiles(self.counts)
        merged.apply(other.counts)
        return merged

    def _table(self, dimension: str) -> tuple[list[int], list[int], int]:
        if dimension not in self._tables:
            prefix = f"{dimension}:"
            bins = sorted((int(name[2:]), max(n, 0)) for name, n in self.counts.items()
                          if name.startswith(prefix))
            below, running = [], 0
            for _, n in bins:
                below.append(running)
                running += n
            self._tables[dimension] = ([b for b, _ in bins], below, running)
        return self._tables[dimension]

    def _score(self, dimension: str, key: int) -> int:
        keys, below, total = self._table(dimension)
        if total <= 0:
            return 3
        lo = bisect_left(keys, key)
        if lo < len(keys) and keys[lo] == key:
            same = (below[lo + 1] if lo + 1 < len(keys) else total) - below[lo]
            share = (below[lo] + same / 2) / total
        else:
            share = (below[lo] if lo < len(keys) else total) / total
        return min(5, 1 + math.floor(5 * share))

    def score(self, values: RfmValues) -> RfmScore:
        """A buyer's scores against the population (an empty population scores 3 everywhere).

        >>> RfmQuantiles().score(RfmValues(1, 1, 1))
        RfmScore(r=3, f=3, m=3, segment='Need Attention')
        """
        keys = [int(name[2:]) for name in fields(values)]
        r, f, m = (self._score(d, k) for d, k in zip(DIMENSIONS, keys, strict=True))
        return RfmScore(r, f, m, segment_name(r, f, m))
