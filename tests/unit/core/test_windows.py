"""Windowed order counts and revenue: exact to the day, bounded, compact."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from streamapp.core.features import DAY_MS
from streamapp.core.windows import (
    MAX_DAYS,
    DayBucket,
    add_order,
    day_of,
    decode,
    encode,
    merge,
    window_changes,
    window_totals,
)

orders = st.lists(st.tuples(st.integers(19_000, 19_400), st.integers(0, 10**7)), max_size=60)


@settings(max_examples=200, deadline=None)
@given(orders, st.integers(19_000, 19_500))
def test_totals_equal_a_brute_force_count(events: list[tuple[int, int]], today: int) -> None:
    buckets: tuple[DayBucket, ...] = ()
    for day, cents in events:
        buckets = add_order(buckets, day, cents)
    newest = max((d for d, _ in events), default=today)
    totals = window_totals(buckets, today * DAY_MS + DAY_MS // 2)
    for days in (7, 30, 90):
        # An order still counts when it is within 90 days of the newest order (older ones are
        # pruned) and, as the windows say, on one of the last `days` days or later.
        inside = [(d, c) for d, c in events if d > today - days and d > newest - MAX_DAYS]
        assert totals[f"orders_{days}d"] == len(inside)
        assert totals[f"revenue_{days}d"] == sum(c for _, c in inside) / 100
    assert len(buckets) <= MAX_DAYS
    assert decode(encode(buckets)) == buckets


def test_an_order_leaves_the_7_day_window_at_midnight_7_days_later() -> None:
    buckets = add_order((), day_of(100 * DAY_MS + 5), 1_000)
    assert window_totals(buckets, 107 * DAY_MS - 1)["orders_7d"] == 1
    assert window_totals(buckets, 107 * DAY_MS)["orders_7d"] == 0
    assert window_totals(buckets, 107 * DAY_MS)["orders_30d"] == 1
    assert window_changes(buckets, 100 * DAY_MS) == [107 * DAY_MS, 130 * DAY_MS, 190 * DAY_MS]
    assert window_changes(buckets, 107 * DAY_MS) == [130 * DAY_MS, 190 * DAY_MS]
    assert window_changes(buckets, 190 * DAY_MS) == []


def test_future_orders_count_as_today() -> None:
    assert window_totals(add_order((), 50, 100), 10 * DAY_MS)["orders_7d"] == 1


def test_memory_is_bounded_and_typical_state_is_small() -> None:
    buckets: tuple[DayBucket, ...] = ()
    for day in range(1_000):
        buckets = add_order(buckets, 20_000 + day, 123_456)
    assert len(buckets) == MAX_DAYS
    typical = add_order(add_order(add_order((), 20_450, 2_599), 20_470, 10_000), 20_520, 4_999)
    assert len(encode(typical)) <= 100


def test_merge_adds_same_day_buckets() -> None:
    left = add_order((), 10, 100)
    right = add_order(add_order((), 10, 50), 12, 1)
    merged = merge(left, right)
    assert merged == (DayBucket(10, 2, 150), DayBucket(12, 1, 1))
    assert merge(right, left) == merged


def test_decode_rejects_garbage() -> None:
    for text in ("1:2", "a:b:c", "1:2:3,"):
        try:
            decode(text)
        except ValueError:
            continue
        raise AssertionError(f"{text!r} decoded")
