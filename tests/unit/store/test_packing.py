"""The packed profile fields: exact round trips, and small where it counts."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from streamapp.core.rfm import RfmValues, fields
from streamapp.core.windows import DayBucket, add_order, encode
from streamapp.store.packing import (
    pack_ints,
    pack_rfm,
    pack_windows,
    unpack_ints,
    unpack_rfm,
    unpack_windows,
)

# Lua numbers are doubles: the scripts are exact up to 2^53, so the round trip is held there.
exact = st.integers(-(2**53), 2**53)


@settings(max_examples=300, deadline=None)
@given(st.lists(exact, max_size=40))
def test_integers_round_trip(numbers: list[int]) -> None:
    assert unpack_ints(pack_ints(numbers)) == numbers


@pytest.mark.parametrize(("number", "size"), [(0, 1), (-64, 1), (63, 1), (64, 2), (8191, 2),
                                              (8192, 3), (2**52, 8)])
def test_small_numbers_take_few_bytes(number: int, size: int) -> None:
    assert len(pack_ints([number])) == size


def test_a_number_cut_short_is_an_error() -> None:
    with pytest.raises(ValueError, match="middle of a number"):
        unpack_ints(pack_ints([10**6])[:-1])


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 60_000), st.integers(1, 10**4),
                          st.integers(0, 10**12)), max_size=30))
def test_windows_round_trip(orders: list[tuple[int, int, int]]) -> None:
    buckets: tuple[DayBucket, ...] = ()
    for day, count, cents in orders:
        buckets = add_order(buckets, day, cents, count)
    assert unpack_windows(pack_windows(buckets)) == buckets


def test_ten_days_of_orders_fit_in_a_listpack_value() -> None:
    # A buyer who ordered on ten of the last 90 days, $199.99 a day: as text the windows passed
    # Redis' 64 bytes of a listpack value after five such days; packed, ten fit.
    buckets = tuple(DayBucket(20_450 + 9 * i, 1, 19_999) for i in range(10))
    assert len(encode(buckets[:5])) > 64
    assert len(pack_windows(buckets)) <= 64


def test_windows_that_are_not_whole_buckets_are_an_error() -> None:
    with pytest.raises(ValueError, match="whole buckets"):
        unpack_windows(pack_ints([1, 2]))


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 200_000), st.integers(1, 10**6), st.integers(0, 10**12))
def test_rfm_fields_round_trip(day: int, orders: int, cents: int) -> None:
    text = ",".join(fields(RfmValues(day, orders, cents)))
    assert unpack_rfm(pack_rfm(text)) == text


def test_a_non_buyer_has_no_rfm_fields() -> None:
    assert pack_rfm("") == b""
    assert unpack_rfm(b"") == ""


@pytest.mark.parametrize("text", ["f:1,r:2,m:3", "r:1,f:2", "r:x,f:1,m:1"])
def test_rfm_fields_of_another_shape_are_an_error(text: str) -> None:
    with pytest.raises(ValueError):
        pack_rfm(text)
