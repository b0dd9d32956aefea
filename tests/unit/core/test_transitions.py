"""Next transition times: found where time alone flips a condition, never after it."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from streamapp.core.audiences import customer_env
from streamapp.core.features import DAY_MS, Counters
from streamapp.core.rules import Rule, compile_rule
from streamapp.core.transitions import next_transition
from streamapp.core.windows import Buckets, add_order

HOUR_MS = DAY_MS // 24


def buyer(first_day: float, last_order_day: float, last_seen_day: float | None = None) -> Counters:
    return Counters(events_total=2, orders_total=2, revenue_cents=10_000,
                    first_seen_ms=int(first_day * DAY_MS),
                    last_seen_ms=int((last_seen_day or last_order_day) * DAY_MS),
                    last_order_ms=int(last_order_day * DAY_MS))


def truth(rule: Rule, counters: Counters, at_ms: int, buckets: Buckets = ()) -> bool:
    return rule.matches(customer_env(counters, at_ms, buckets))


def test_silence_crosses_sixty_days() -> None:
    rule = compile_rule("orders_total >= 2 and days_since_last_order > 60")
    counters = buyer(1, 10.25)
    t = next_transition(rule, counters, 20 * DAY_MS)
    assert t is not None
    assert truth(rule, counters, t) and not truth(rule, counters, t - 1)
    assert abs(t - (70.25 * DAY_MS)) <= DAY_MS // 500
    assert next_transition(rule, counters, t) is None


def test_tenure_leaves_the_new_customer_audience() -> None:
    rule = compile_rule("tenure_days < 7")
    counters = buyer(3, 3)
    t = next_transition(rule, counters, 3 * DAY_MS)
    assert t is not None and abs(t - 10 * DAY_MS) <= DAY_MS // 500
    assert not truth(rule, counters, t) and truth(rule, counters, t - 1)


def test_between_has_two_transitions() -> None:
    rule = compile_rule("days_since_last_seen between 30 and 40")
    counters = buyer(1, 1)
    first = next_transition(rule, counters, DAY_MS)
    assert first is not None and abs(first - 31 * DAY_MS) <= DAY_MS // 500
    second = next_transition(rule, counters, first)
    assert second is not None and abs(second - 41 * DAY_MS) <= DAY_MS // 500
    assert next_transition(rule, counters, second) is None


def test_window_changes_move_membership() -> None:
    rule = compile_rule("orders_30d >= 2")
    buckets = add_order(add_order((), 100, 500), 110, 500)
    counters = buyer(100, 110)
    assert next_transition(rule, counters, 111 * DAY_MS, buckets) == 130 * DAY_MS
    # A change that does not flip the condition is skipped.
    rule = compile_rule("orders_30d >= 1")
    assert next_transition(rule, counters, 111 * DAY_MS, buckets) == 140 * DAY_MS


def test_mixed_conditions_wake_up_at_the_next_window_change() -> None:
    rule = compile_rule("revenue_7d - days_since_last_order > 0")
    buckets = add_order((), 100, 1_000)
    counters = buyer(100, 100)
    assert next_transition(rule, counters, 100 * DAY_MS, buckets) == 107 * DAY_MS


def test_non_linear_conditions_are_rechecked_daily() -> None:
    rule = compile_rule("days_since_last_order * days_since_last_seen > 10000")
    counters = buyer(1, 1)
    assert next_transition(rule, counters, 5 * DAY_MS) == 6 * DAY_MS


def test_conditions_time_cannot_change() -> None:
    counters = buyer(1, 1)
    assert next_transition(compile_rule("orders_total > 1"), counters, DAY_MS) is None
    assert next_transition(compile_rule("days_since_last_order < 0"), counters, DAY_MS) is None
    never = Counters(events_total=1, first_seen_ms=DAY_MS, last_seen_ms=DAY_MS)
    assert next_transition(compile_rule("days_since_last_order > 5"), never, DAY_MS) is None


def test_features_that_cancel_leave_a_condition_alone_as_time_passes() -> None:
    # Tenure and recency grow alike, so their difference stays exactly 9 days; in binary floats
    # the two rounded features once subtracted to 9.000000000000002 at some instants.
    rule = compile_rule("tenure_days - days_since_last_order > 9")
    for first in range(50):
        counters = buyer(first, first + 9)
        now = counters.last_seen_ms
        assert next_transition(rule, counters, now) is None
        assert not any(truth(rule, counters, at) for at in range(now, now + 30 * DAY_MS, HOUR_MS))


RULES = [
    "days_since_last_order > 60",
    "days_since_last_order >= 3.5 and orders_total > 0",
    "days_since_last_seen <= 12",
    "tenure_days between 7 and 30",
    "not tenure_days > 20 or days_since_last_order > 40",
    "days_since_last_order * 2 > tenure_days",
    "tenure_days - days_since_last_order > 9",
    "orders_7d >= 1",
    "orders_30d >= 2 or revenue_90d > 30",
    "revenue_30d > 10 and days_since_last_order < 20",
    "days_since_last_order / 7 > 3",
    "-days_since_last_seen < -15",
]


@settings(max_examples=50, deadline=None)
@given(st.sampled_from(RULES), st.lists(st.tuples(st.integers(0, 60), st.integers(100, 5_000)),
                                        min_size=1, max_size=6),
       st.integers(0, 23), st.integers(0, 70))
def test_a_timer_loop_sees_every_change_a_scan_sees(
        source: str, orders: list[tuple[int, int]], hour: int, start_day: int) -> None:
    rule = compile_rule(source)
    buckets: Buckets = ()
    for day, cents in orders:
        buckets = add_order(buckets, day, cents)
    first, last = min(d for d, _ in orders), max(d for d, _ in orders)
    counters = Counters(events_total=len(orders), orders_total=len(orders),
                        revenue_cents=sum(c for _, c in orders), first_seen_ms=first * DAY_MS,
                        last_seen_ms=last * DAY_MS + hour * HOUR_MS,
                        last_order_ms=last * DAY_MS + hour * HOUR_MS)
    now = max(start_day * DAY_MS, counters.last_seen_ms)
    end = now + 120 * DAY_MS
    wakeups = 0
    while now < end:
        due = next_transition(rule, counters, now, buckets)
        assert due is None or due > now
        until = end if due is None else min(due, end)
        current = truth(rule, counters, now, buckets)
        for at in range(now + HOUR_MS, until - DAY_MS // 500, 3 * HOUR_MS):
            assert truth(rule, counters, at, buckets) == current, (source, now, at, due)
        if due is None:
            break
        now = due
        wakeups += 1
        assert wakeups < 250
