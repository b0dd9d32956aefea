"""The fast decode path gives exactly what pydantic's path gives, or steps aside for it."""

from __future__ import annotations

import itertools
from typing import Any

import orjson
import pytest

import streamapp.pipeline.decode as decode
from streamapp.bench.workload import make_records
from streamapp.pipeline.decode import KafkaRecord, Rejected, decode_record
from streamapp.pipeline.decode_fast import fast_fields
from streamapp.simulator.generator import generate


def _outcome(payload: bytes, offset: int = 0) -> object:
    record = KafkaRecord(b"k", payload, "in", 2, offset, 1_700_000_000_000)
    try:
        return decode_record(record, 65536)
    except Rejected as exc:
        return ("rejected", exc.error_type)


def _both(payload: bytes, monkeypatch: pytest.MonkeyPatch) -> tuple[object, object]:
    fast = _outcome(payload)
    with monkeypatch.context() as patched:
        patched.setattr(decode, "fast_fields", lambda _event: None)
        slow = _outcome(payload)
    return fast, slow


def test_simulator_events_decode_alike_and_take_the_fast_path(
        monkeypatch: pytest.MonkeyPatch) -> None:
    events = list(itertools.islice(generate(300, seed=3, days=30), 3000))
    assert any(e.get("event") == "Order Completed" for e in events)
    for event in events:
        assert fast_fields(event) is not None, event
        fast, slow = _both(orjson.dumps(event), monkeypatch)
        assert fast == slow


def test_benchmark_events_decode_alike(monkeypatch: pytest.MonkeyPatch) -> None:
    for _key, value in make_records(2000, 300, seed=5):
        fast, slow = _both(value, monkeypatch)
        assert fast == slow


BASE: dict[str, Any] = {"type": "track", "userId": "u1", "messageId": "m1",
                        "event": "Order Completed", "timestamp": "2026-01-05T10:00:00.250+02:00",
                        "properties": {"revenue": 25.5}}


@pytest.mark.parametrize("change", [
    {},
    {"userId": None, "anonymousId": "a1"},
    {"userId": 42},
    {"userId": True},
    {"userId": ""},
    {"userId": "   "},
    {"userId": "u\x00"},
    {"userId": "u" * 257},
    {"userId": None},
    {"user_id": "snake"},
    {"messageId": None},
    {"messageId": ""},
    {"messageId": 7},
    {"messageId": "m" * 257},
    {"timestamp": None},
    {"timestamp": None, "sentAt": "2026-01-05T10:00:00Z"},
    {"timestamp": "2026-01-05T10:00:00"},
    {"timestamp": "2026-01-05 10:00:00Z"},
    {"timestamp": "2026-13-05T10:00:00Z"},
    {"timestamp": "2026-01-05T10:00:00.1234567Z"},
    {"timestamp": 1767607200},
    {"sentAt": "yesterday"},
    {"event": ""},
    {"event": None},
    {"event": "Product Viewed", "properties": {"revenue": "lots"}},
    {"properties": {"revenue": "12"}},
    {"properties": {"revenue": True}},
    {"properties": {"revenue": 1e12}},
    {"properties": {"revenue": -1}},
    {"properties": {"total": 12, "revenue": None}},
    {"properties": {"value": 3}},
    {"properties": {}},
    {"properties": None},
    {"properties": [1]},
    {"context": None},
    {"context": "web"},
    {"context": {"ip": "1.2.3.4"}, "integrations": {"All": True}},
    {"type": "page", "name": 5},
    {"type": "page", "name": None, "properties": {"path": "/"}},
    {"type": "screen", "name": "Home"},
    {"type": "identify", "traits": {"email": "a@b.c", "country": "CN", "age": 41,
                                    "plan": True, "city": None}},
    {"type": "identify", "traits": None},
    {"type": "identify", "traits": "x"},
    {"type": "alias", "previousId": "old"},
    {"type": "forget"},
    {"type": "unknown"},
    {"type": ["track"]},
])
def test_unusual_events_decode_alike(change: dict[str, Any],
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    event = {**BASE, **change}
    fast, slow = _both(orjson.dumps(event), monkeypatch)
    assert fast == slow


@pytest.mark.parametrize("payload", [b"{oops", b"[1, 2]", b"null", b'"text"', b"{}",
                                     b'{"type": "page", "userId": "u", "x": NaN}'])
def test_malformed_payloads_decode_alike(payload: bytes, monkeypatch: pytest.MonkeyPatch) -> None:
    fast, slow = _both(payload, monkeypatch)
    assert fast == slow
