"""Property-based tests (hypothesis) of the event parser and of the feature update."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from streamapp.core.facts import EventFact, to_cents
from streamapp.core.features import Counters
from streamapp.pipeline.decode import KafkaRecord, decode_batch
from streamapp.store.memory import MemoryProfileStore
from tests.hostile_corpus import TEN_MB

ERROR_TYPES = {"too_large", "invalid_json", "invalid_event", "unprocessable", "unsupported"}
MAX_BYTES = 65_536

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner,
                                                                max_size=4),
    max_leaves=20,
)
FIELDS = ["type", "userId", "anonymousId", "messageId", "timestamp", "event", "properties",
          "traits", "name", "previousId", "sentAt"]
event_like = st.dictionaries(
    st.sampled_from(FIELDS),
    st.sampled_from(["track", "page", "identify", "screen", "alias", "forget", "Order Completed"])
    | json_values, max_size=8)


def _decode(value: bytes, offset: int = 0) -> tuple[list[EventFact], list[dict[str, Any]]]:
    record = KafkaRecord(b"k", value, "events", 0, offset, 1_700_000_000_000)
    facts, rejects = decode_batch([record], MAX_BYTES, lambda t: t, [])
    return facts, [r for _, r in rejects]


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_any_bytes_are_a_fact_or_a_reason(value: bytes) -> None:
    facts, rejects = _decode(value)
    assert len(facts) + len(rejects) <= 1
    assert all(r["error_type"] in ERROR_TYPES and r["error"] for r in rejects)


@settings(max_examples=300, deadline=None)
@given(event_like)
def test_any_json_object_is_a_fact_a_forget_or_a_reason(event: dict[str, Any]) -> None:
    facts, rejects = _decode(json.dumps(event).encode())  # any integer size, as producers may
    for r in rejects:
        assert r["error_type"] in ERROR_TYPES
    for fact in facts:
        assert fact.customer_id and fact.customer_id.isprintable()
        assert fact.revenue_cents >= 0 and fact.time_ms >= 1
        assert set(fact.traits) <= {"country", "city", "region", "plan", "age", "gender",
                                    "language", "timezone", "industry"}


ids = st.text(st.characters(codec="utf-8", categories=("L", "N", "P", "S")), min_size=1,
              max_size=40).filter(lambda s: s.strip() and s.isprintable())
amounts = st.decimals(min_value=0, max_value=10_000_000, places=2, allow_nan=False)
moments = st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(2100, 1, 1),
                       timezones=st.just(UTC))


@settings(max_examples=150, deadline=None)
@given(ids, amounts, moments, st.sampled_from(["revenue", "total", "value"]))
def test_valid_orders_are_read_exactly(customer: str, amount: Decimal, when: datetime,
                                       key: str) -> None:
    event = {"type": "track", "userId": customer, "event": "Order Completed",
             "timestamp": when.isoformat(), "properties": {key: float(amount)}}
    facts, rejects = _decode(orjson.dumps(event))
    assert rejects == []
    [fact] = facts
    assert fact.customer_id == customer and fact.is_order
    assert fact.revenue_cents == to_cents(float(amount))
    assert fact.time_ms == int(when.timestamp() * 1000)


def test_a_ten_megabyte_payload_goes_to_the_dlq_cut_short() -> None:
    facts, rejects = _decode(b'{"type":"page","userId":"u","name":"' + b"x" * TEN_MB + b'"}')
    assert facts == [] and rejects[0]["error_type"] == "too_large"
    assert len(rejects[0]["payload_b64"]) < 400_000


facts_strategy = st.lists(
    st.tuples(st.booleans(), st.integers(0, 1_000_000), st.booleans(),
              st.integers(1, 4_000_000_000_000), st.integers(0, 30)),
    min_size=1, max_size=40)


def _facts(rows: list[tuple[bool, int, bool, int, int]]) -> list[EventFact]:
    return [EventFact("u", 0, offset, f"m{mid}", t, is_order, cents if is_order else 0,
                      is_page and not is_order)
            for offset, (is_order, cents, is_page, t, mid) in enumerate(rows)]


@settings(max_examples=200, deadline=None)
@given(facts_strategy, st.lists(st.integers(1, 10), min_size=1, max_size=10),
       st.lists(st.integers(0, 40), max_size=5))
def test_feature_update_is_exact_under_any_batching_and_redelivery(
        rows: list[tuple[bool, int, bool, int, int]], cuts: list[int],
        replays: list[int]) -> None:
    facts = _facts(rows)
    # Ground truth: every fact counts once, except a messageId seen within the dedupe window.
    window = 8
    expected, recent = Counters(), []
    for fact in facts:
        if fact.fingerprint not in recent:
            expected = expected.apply(fact)
            recent = [fact.fingerprint, *recent][:window]
    store = MemoryProfileStore(dedupe_window=window)
    batches, start = [], 0
    for cut in cuts * (len(facts) // max(1, sum(cuts)) + 1):
        if start >= len(facts):
            break
        batches.append(facts[start:start + cut])
        start += cut
    if start < len(facts):
        batches.append(facts[start:])
    for i, batch in enumerate(batches):
        asyncio.run(store.apply({"u": batch}))
        for replay in replays:  # Kafka redelivers from an older committed offset
            if replay <= i:
                asyncio.run(store.apply({"u": batches[replay]}))
    counters = store.profiles["u"].counters
    assert counters == expected
    assert counters.first_seen_ms <= counters.last_seen_ms


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 10_000_000_00), min_size=1, max_size=30),
       st.lists(moments, min_size=1, max_size=30))
def test_money_sums_exactly_and_times_bound(cents: list[int], times: list[datetime]) -> None:
    counters = Counters()
    for i, (c, when) in enumerate(zip(cents, times * len(cents), strict=False)):
        counters = counters.apply(EventFact("u", 0, i, f"m{i}", int(when.timestamp() * 1000),
                                            True, c))
    assert counters.revenue_cents == sum(cents)
    assert counters.orders_total == counters.events_total == len(cents)
    used = [int(t.timestamp() * 1000) for t in (times * len(cents))[:len(cents)]]
    assert (counters.first_seen_ms, counters.last_seen_ms) == (min(used), max(used))
    assert counters.last_order_ms == max(used)
    assert timedelta(milliseconds=counters.last_seen_ms - counters.first_seen_ms).days >= 0
