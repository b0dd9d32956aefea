"""From Kafka records to event facts, and to DLQ records for what cannot be used.

>>> r = KafkaRecord(b"u1", b'{"type":"page","userId":"u1","timestamp":"2026-01-01T00:00:00Z"}',
...                 "customer-events", 0, 3, 0)
>>> facts, rejects = decode_batch([r, r._replace(value=b"{oops", offset=4)], max_bytes=1024)
>>> facts[0].is_page_view, facts[0].time_ms, rejects[0][1]["error_type"]
(True, 1767225600000, 'invalid_json')
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, NamedTuple

import orjson
from pydantic import ValidationError

from streamapp.core.facts import EventFact, derive_message_id, to_cents
from streamapp.events import parse_event


class KafkaRecord(NamedTuple):
    """One consumed record: where it came from and its raw bytes."""

    key: bytes | None
    value: bytes | None
    topic: str
    partition: int
    offset: int
    timestamp_ms: int


class Rejected(Exception):
    """An input that goes to the DLQ; ``error_type`` is a stable machine-readable reason."""

    def __init__(self, error_type: str, message: str) -> None:
        super().__init__(message)
        self.error_type = error_type


def to_fact(record: KafkaRecord, max_bytes: int, clamp: Callable[[int], int] = int) -> EventFact:
    """The fact of one record, or ``Rejected`` saying why not."""
    payload = record.value or b""
    if len(payload) > max_bytes:
        raise Rejected("too_large", f"payload of {len(payload)} bytes exceeds {max_bytes}")
    try:
        event = parse_event(payload)
    except orjson.JSONDecodeError as exc:
        raise Rejected("invalid_json", str(exc)) from None
    except ValidationError as exc:
        raise Rejected("invalid_event", _summary(exc)) from None
    when = event.event_time
    time_ms = int(when.timestamp() * 1000) if when else record.timestamp_ms
    return EventFact(
        customer_id=event.customer_id,
        partition=record.partition,
        offset=record.offset,
        message_id=event.message_id
        or derive_message_id(payload, record.topic, record.partition, record.offset),
        time_ms=clamp(time_ms),
        is_order=event.is_order,
        revenue_cents=to_cents(event.revenue),
        is_page_view=event.is_page_view,
        traits=event.kept_traits,
    )


def _summary(exc: ValidationError) -> str:
    parts = []
    for error in exc.errors()[:3]:
        where = ".".join(str(p) for p in error["loc"]) or "event"
        parts.append(f"{where}: {error['msg']}")
    return "; ".join(parts)


def dlq_record(record: KafkaRecord, error_type: str, error: str) -> dict[str, Any]:
    """The DLQ value for a rejected record (see ``streamapp.events.DlqRecord``)."""
    return {
        "error": error,
        "error_type": error_type,
        "topic": record.topic,
        "partition": record.partition,
        "offset": record.offset,
        "received_at": datetime.now(UTC).isoformat(),
        "payload_b64": base64.b64encode(record.value or b"").decode(),
    }


def decode_batch(
    records: Sequence[KafkaRecord], max_bytes: int, clamp: Callable[[int], int] = int
) -> tuple[list[EventFact], list[tuple[bytes | None, dict[str, Any]]]]:
    """Facts of the usable records (in input order) and (key, DLQ value) for the others."""
    facts: list[EventFact] = []
    rejects: list[tuple[bytes | None, dict[str, Any]]] = []
    for record in records:
        try:
            facts.append(to_fact(record, max_bytes, clamp))
        except Rejected as exc:
            rejects.append((record.key, dlq_record(record, exc.error_type, str(exc))))
        except Exception as exc:
            rejects.append(
                (record.key, dlq_record(record, "unprocessable", f"{type(exc).__name__}: {exc}"))
            )
    return facts, rejects
