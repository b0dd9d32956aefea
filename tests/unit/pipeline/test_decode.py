"""Decoding records: what is accepted, what goes to the DLQ and why."""

from __future__ import annotations

import orjson
import pytest

from streamapp.pipeline.decode import KafkaRecord, Rejected, to_fact


def _record(body: object, offset: int = 0) -> KafkaRecord:
    return KafkaRecord(b"k", orjson.dumps(body), "in", 1, offset, 1_700_000_000_000)


def test_missing_message_id_is_derived_from_content_and_position() -> None:
    body = {"type": "track", "userId": "u", "event": "Order Completed",
            "properties": {"total": 5}, "timestamp": "2026-01-01T00:00:00Z"}
    a, b = to_fact(_record(body, 1), 4096), to_fact(_record(body, 2), 4096)
    assert a.message_id != b.message_id
    assert a.message_id == to_fact(_record(body, 1), 4096).message_id
    assert a.revenue_cents == 500


def test_missing_timestamp_falls_back_to_the_kafka_record_time() -> None:
    assert to_fact(_record({"type": "page", "userId": "u"}), 4096).time_ms == 1_700_000_000_000


def test_email_and_phone_traits_are_never_kept() -> None:
    fact = to_fact(_record({"type": "identify", "userId": "u", "traits": {
        "email": "a@b.c", "phone": "+1555", "country": "CN"}}), 4096)
    assert fact.traits == {"country": "CN"}


@pytest.mark.parametrize(("body", "reason"), [
    ({"type": "page"}, "invalid_event"),
    ({"type": "track", "userId": "u", "event": "Order Completed",
      "properties": {"revenue": "12"}}, "invalid_event"),
    ({"type": "track", "userId": "u", "event": "Order Completed",
      "properties": {"revenue": 1e12}}, "invalid_event"),
    ({"type": "page", "userId": "u\x00"}, "invalid_event"),
    ({"type": "page", "userId": "u", "timestamp": "2026-01-01T00:00:00"}, "invalid_event"),
    ([1, 2], "invalid_event"),
])
def test_bad_events_are_rejected_with_a_reason(body: object, reason: str) -> None:
    with pytest.raises(Rejected) as caught:
        to_fact(_record(body), 4096)
    assert caught.value.error_type == reason


def test_nan_is_not_json() -> None:
    record = KafkaRecord(b"k", b'{"type":"track","userId":"u","event":"Order Completed",'
                               b'"properties":{"revenue":NaN}}', "in", 0, 0, 0)
    with pytest.raises(Rejected) as caught:
        to_fact(record, 4096)
    assert caught.value.error_type == "invalid_json"
