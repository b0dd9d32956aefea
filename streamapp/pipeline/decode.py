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
from streamapp.pipeline.decode_fast import FastFields, fast_fields


class KafkaRecord(NamedTuple):
    """One consumed record: where it came from and its raw bytes."""

    key: bytes | None
    value: bytes | None
    topic: str
    partition: int
    offset: int
    timestamp_ms: int


# A rejected payload goes to the DLQ base64-encoded (4/3 of its size); a whole one of up to the
# broker's 1 MB limit would not fit back into a 1 MB DLQ record, and the failed send stopped the
# partition. 256 KB of it is enough to see what was wrong.
DLQ_PAYLOAD_MAX_BYTES = 256 * 1024
MIN_EVENT_TIME_MS = 1


class ForgetRequest(NamedTuple):
    """A ``{"type": "forget"}`` admin message: forget this customer (``streamapp.store.forget``)."""

    customer_id: str
    message_id: str
    time_ms: int


class Rejected(Exception):
    """An input that goes to the DLQ; ``error_type`` is a stable machine-readable reason."""

    def __init__(self, error_type: str, message: str) -> None:
        super().__init__(message)
        self.error_type = error_type


def to_fact(record: KafkaRecord, max_bytes: int, clamp: Callable[[int], int] = int) -> EventFact:
    """The fact of one record, or ``Rejected`` saying why not."""
    decoded = decode_record(record, max_bytes, clamp)
    if isinstance(decoded, ForgetRequest):
        raise Rejected("unsupported", "forget messages are handled by decode_batch")
    return decoded


def decode_record(
    record: KafkaRecord, max_bytes: int, clamp: Callable[[int], int] = int
) -> EventFact | ForgetRequest:
    """The fact of one record, a forget request, or ``Rejected`` saying why neither."""
    payload = record.value or b""
    if len(payload) > max_bytes:
        raise Rejected("too_large", f"payload of {len(payload)} bytes exceeds {max_bytes}")
    try:
        fast = fast_fields(orjson.loads(payload))
    except orjson.JSONDecodeError as exc:
        raise Rejected("invalid_json", str(exc)) from None
    if fast is not None:
        return _fast_fact(fast, payload, record, clamp)
    try:
        event = parse_event(payload)
    except ValidationError as exc:
        raise Rejected("invalid_event", _summary(exc)) from None
    when = event.event_time
    time_ms = int(when.timestamp() * 1000) if when else record.timestamp_ms
    # Profiles use 0 for "never", so an event from before 1970 is clamped to just after it.
    time_ms = max(time_ms, MIN_EVENT_TIME_MS)
    message_id = event.message_id or derive_message_id(
        payload, record.topic, record.partition, record.offset)
    if event.is_forget:
        return ForgetRequest(event.customer_id, message_id, clamp(time_ms))
    return EventFact(
        customer_id=event.customer_id,
        partition=record.partition,
        offset=record.offset,
        message_id=message_id,
        time_ms=clamp(time_ms),
        is_order=event.is_order,
        revenue_cents=to_cents(event.revenue),
        is_page_view=event.is_page_view,
        traits=event.kept_traits,
        merges_from=event.merges_from,
        event_type=event.type,
    )


def _fast_fact(fast: FastFields, payload: bytes, record: KafkaRecord,
               clamp: Callable[[int], int]) -> EventFact:
    """The fact of an event the fast path read: the same fact pydantic's path would give."""
    return EventFact(
        customer_id=fast.customer_id,
        partition=record.partition,
        offset=record.offset,
        message_id=fast.message_id
        or derive_message_id(payload, record.topic, record.partition, record.offset),
        time_ms=clamp(max(record.timestamp_ms if fast.time_ms is None else fast.time_ms,
                          MIN_EVENT_TIME_MS)),
        is_order=fast.is_order,
        revenue_cents=to_cents(fast.revenue),
        is_page_view=fast.is_page_view,
        traits=fast.traits,
        merges_from=fast.merges_from,
        event_type=fast.event_type,
    )


def _summary(exc: ValidationError) -> str:
    parts = []
    for error in exc.errors()[:3]:
        where = ".".join(str(p) for p in error["loc"]) or "event"
        parts.append(f"{where}: {error['msg']}")
    return "; ".join(parts)


def dlq_record(record: KafkaRecord, error_type: str, error: str) -> dict[str, Any]:
    """The DLQ value for a rejected record (see ``streamapp.events.DlqRecord``).

    A payload over ``DLQ_PAYLOAD_MAX_BYTES`` is cut to that size, and the error says so.

    >>> r = dlq_record(KafkaRecord(None, b"x" * 300_000, "t", 0, 0, 0), "too_large", "big")
    >>> len(base64.b64decode(r["payload_b64"])), r["error"]
    (262144, 'big (payload_b64 holds the first 262144 of 300000 bytes)')
    """
    payload = record.value or b""
    if len(payload) > DLQ_PAYLOAD_MAX_BYTES:
        error += f" (payload_b64 holds the first {DLQ_PAYLOAD_MAX_BYTES} of {len(payload)} bytes)"
        payload = payload[:DLQ_PAYLOAD_MAX_BYTES]
    return {
        "error": error,
        "error_type": error_type,
        "topic": record.topic,
        "partition": record.partition,
        "offset": record.offset,
        "received_at": datetime.now(UTC).isoformat(),
        "payload_b64": base64.b64encode(payload).decode(),
    }


def decode_batch(
    records: Sequence[KafkaRecord], max_bytes: int, clamp: Callable[[int], int] = int,
    forgets: list[ForgetRequest] | None = None,
) -> tuple[list[EventFact], list[tuple[bytes | None, dict[str, Any]]]]:
    """Facts of the usable records (in input order) and (key, DLQ value) for the others.

    Forget requests are appended to ``forgets``; without that list they go to the DLQ.
    """
    facts: list[EventFact] = []
    rejects: list[tuple[bytes | None, dict[str, Any]]] = []
    for record in records:
        try:
            decoded = decode_record(record, max_bytes, clamp)
            if isinstance(decoded, EventFact):
                facts.append(decoded)
            elif forgets is not None:
                forgets.append(decoded)
            else:
                raise Rejected("unsupported", "forget messages are not accepted here")
        except Rejected as exc:
            rejects.append((record.key, dlq_record(record, exc.error_type, str(exc))))
        except Exception as exc:
            rejects.append(
                (record.key, dlq_record(record, "unprocessable", f"{type(exc).__name__}: {exc}"))
            )
    return facts, rejects
