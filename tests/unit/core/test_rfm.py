"""RFM scores from mergeable population histograms, and the named segment grid."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from streamapp.core.features import DAY_MS, Counters
from streamapp.core.rfm import (
    SEGMENT_GRID,
    RfmQuantiles,
    RfmValues,
    delta,
    rfm_values,
    segment_name,
)

values = st.builds(RfmValues, st.integers(18_000, 20_000), st.integers(1, 500),
                   st.integers(0, 10**9))


def test_every_named_segment_is_on_the_grid() -> None:
    names = {name for row in SEGMENT_GRID for name in row}
    assert names == {"Champions", "Loyal", "Potential Loyalist", "New Customers", "Promising",
                     "Need Attention", "About to Sleep", "At Risk", "Can't Lose Them",
                     "Hibernating", "Lost"}
    assert segment_name(5, 5, 5) == "Champions"
    assert segment_name(1, 1, 1) == "Lost"
    assert segment_name(5, 1, 1) == "New Customers"
    assert segment_name(1, 5, 4) == "Can't Lose Them"


@settings(max_examples=100, deadline=None)
@given(st.lists(values, max_size=40), st.lists(values, max_size=40))
def test_merging_equals_adding_everything_in_one_place(a: list[RfmValues],
                                                         b: list[RfmValues]) -> None:
    left, right, together = RfmQuantiles(), RfmQuantiles(), RfmQuantiles()
    for v in a:
        left.add(v)
        together.add(v)
    for v in b:
        right.apply(delta(None, v))
        together.add(v)
    assert left.merge(right).counts == together.counts


@settings(max_examples=100, deadline=None)
@given(st.lists(values, min_size=1, max_size=40))
def test_remove_undoes_add(population: list[RfmValues]) -> None:
    q = RfmQuantiles()
    for v in population:
        q.add(v)
    for v in population:
        q.remove(v)
    assert q.counts == {}


def test_a_changed_customer_moves_between_bins() -> None:
    q = RfmQuantiles()
    old, new = RfmValues(100, 1, 1_000), RfmValues(120, 2, 3_000)
    q.add(old)
    q.apply(delta(old, new))
    assert q.counts == RfmQuantiles(delta(None, new)).counts


def test_scores_follow_the_population_quintiles() -> None:
    rng = random.Random(7)
    q = RfmQuantiles()
    population = [RfmValues(20_000 - rng.randrange(365), rng.randrange(1, 50),
                            rng.randrange(100, 10**6)) for _ in range(5_000)]
    for v in population:
        q.add(v)
    scores = [q.score(v) for v in population]
    for dimension in ("r", "f", "m"):
        histogram = [sum(getattr(s, dimension) == k for s in scores) for k in range(1, 6)]
        assert all(700 < n < 1_300 for n in histogram), (dimension, histogram)
    recent, old = RfmValues(20_000, 1, 100), RfmValues(20_000 - 364, 1, 100)
    assert q.score(recent).r == 5 and q.score(old).r == 1


def test_score_is_monotone_in_each_dimension() -> None:
    q = RfmQuantiles()
    for n in range(1, 200):
        q.add(RfmValues(19_000 + n, n, n * 1_000))
    previous = q.score(RfmValues(19_000, 1, 1))
    for n in range(1, 250, 7):
        current = q.score(RfmValues(19_000 + n, n, n * 1_000))
        assert (current.r, current.f, current.m) >= (previous.r, previous.f, previous.m)
        previous = current


def test_counts_from_storage_round_trip() -> None:
    q = RfmQuantiles()
    q.add(RfmValues(1, 1, 1))
    assert RfmQuantiles({k: v for k, v in q.counts.items()}).counts == q.counts


def test_non_buyers_have_no_rfm() -> None:
    assert rfm_values(Counters(events_total=3)) is None
    assert rfm_values(Counters(orders_total=1, revenue_cents=5, last_order_ms=2 * DAY_MS)) == \
        RfmValues(2, 1, 5)
