"""Exact counters and derived features."""

from __future__ import annotations

from streamapp.core.facts import EventFact, to_cents
from streamapp.core.features import DAY_MS, Counters, derive, feature_matrix, feature_vector


def test_orders_on_the_same_day_all_count() -> None:
    c = Counters()
    for i in range(3):
        c = c.apply(EventFact.order("u1", 0, i, f"m{i}", DAY_MS, 19.99))
    assert (c.orders_total, c.revenue_cents, c.events_total) == (3, 5997, 3)


def test_money_sums_are_exact() -> None:
    assert sum(to_cents(0.1) for _ in range(10)) == 100
    assert to_cents(1e7) == 10**9


def test_derived_features_follow_the_clock() -> None:
    c = Counters().apply(EventFact.order("u1", 0, 0, "m", DAY_MS, 10.0))
    assert derive(c, DAY_MS * 3)["days_since_last_order"] == 2.0
    assert derive(c, DAY_MS * 3)["tenure_days"] == 2.0
    page = Counters().apply(EventFact("u2", 0, 0, "p", DAY_MS, is_page_view=True))
    assert derive(page, DAY_MS)["days_since_last_order"] is None


def test_vector_and_matrix_agree() -> None:
    counters = [Counters(5, 2, 12345, 3, DAY_MS, 4 * DAY_MS, 3 * DAY_MS), Counters()]
    matrix = feature_matrix(counters, 10 * DAY_MS)
    assert [list(row) for row in matrix] == [feature_vector(c, 10 * DAY_MS) for c in counters]
