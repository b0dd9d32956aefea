"""From rows of a CSV export of orders to Segment ``Order Completed`` events.

Pure: no Kafka, no files; the command (``streamapp import-csv``) reads and publishes. Each event's
messageId comes from the file's fingerprint (a hash of its bytes) and the row's number, so importing
the same file again yields the same ids, while two rows that look alike (same customer, day and
amount) stay two orders.

>>> mapping = ColumnMapping(customer="email_hash", time="day", amount="total")
>>> row = {"email_hash": "c1", "day": "20240131", "total": "19.90"}
>>> event = row_to_event(row, 1, mapping, file_fingerprint("a.csv", b"x"))
>>> event["userId"], event["timestamp"], event["properties"]["revenue"], event["messageId"][:4]
('c1', '2024-01-31T00:00:00+00:00', 19.9, 'csv-')
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from streamapp.events import MAX_ORDER_REVENUE, ORDER_EVENT

COMPACT_DATE = "%Y%m%d"


class RowError(ValueError):
    """A row that cannot become an event; the message says which column and why."""


@dataclass(frozen=True)
class ColumnMapping:
    """Which CSV column holds what; ``order_id`` and ``currency`` are optional."""

    customer: str = "customer_id"
    time: str = "timestamp"
    amount: str = "amount"
    order_id: str | None = None
    currency: str | None = None
    date_format: str | None = None  # strptime format; None: ISO-8601 or YYYYMMDD
    default_currency: str | None = None

    def missing(self, header: list[str]) -> list[str]:
        """Mapped columns the file's header lacks.

        >>> ColumnMapping(order_id="id").missing(["customer_id", "amount"])
        ['timestamp', 'id']
        """
        wanted = [self.customer, self.time, self.amount, self.order_id, self.currency]
        return [c for c in wanted if c is not None and c not in header]


def file_fingerprint(name: str, content: bytes) -> str:
    """A short, stable id of a file's content (its name does not count: a renamed copy is the same
    export, and must not be imported twice).

    >>> file_fingerprint("a.csv", b"x") == file_fingerprint("b.csv", b"x")
    True
    >>> len(file_fingerprint("a.csv", b"x"))
    16
    """
    return hashlib.sha256(content).hexdigest()[:16]


def parse_time(text: str, date_format: str | None = None) -> datetime:
    """An order's time: ``YYYYMMDD``, an ISO-8601 date or time, or ``date_format``; UTC if no zone.

    >>> parse_time("20240131").isoformat(), parse_time("2024-01-31T10:00:00+01:00").isoformat()
    ('2024-01-31T00:00:00+00:00', '2024-01-31T10:00:00+01:00')
    >>> parse_time("31/01/2024", "%d/%m/%Y").date().isoformat()
    '2024-01-31'
    >>> parse_time("yesterday")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    streamapp.importer.csv_orders.RowError: 'yesterday' is not a date (use YYYYMMDD, ISO-8601 ...)
    """
    value = text.strip()
    try:
        if date_format:
            when = datetime.strptime(value, date_format)
        elif len(value) == 8 and value.isdigit():
            when = datetime.strptime(value, COMPACT_DATE)
        else:
            when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        hint = f"--date-format {date_format}" if date_format else "--date-format"
        raise RowError(f"{text!r} is not a date (use YYYYMMDD, ISO-8601 or {hint})") from None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def parse_amount(text: str) -> float:
    """An order's amount: digits with a decimal point, thousands separators and symbols ignored.

    >>> parse_amount("1,234.50"), parse_amount(" $19.99 "), parse_amount("7")
    (1234.5, 19.99, 7.0)
    >>> parse_amount("-3")
    Traceback (most recent call last):
    ...
    streamapp.importer.csv_orders.RowError: amount '-3' must be between 0 and 10000000
    """
    cleaned = "".join(ch for ch in text.strip() if ch.isdigit() or ch in ".-")
    try:
        amount = Decimal(cleaned)
    except InvalidOperation:
        raise RowError(f"amount {text!r} is not a number") from None
    if not 0 <= amount <= Decimal(MAX_ORDER_REVENUE):
        raise RowError(f"amount {text!r} must be between 0 and {MAX_ORDER_REVENUE:.0f}")
    return float(amount)


def row_to_event(
    row: dict[str, str], row_number: int, mapping: ColumnMapping, fingerprint: str
) -> dict[str, Any]:
    """The Segment event of one CSV row (``row_number`` counts data rows from 1); ``RowError``
    when a value is missing or wrong.

    >>> m = ColumnMapping()
    >>> row_to_event({"customer_id": " ", "timestamp": "20240101", "amount": "1"}, 3, m, "f")
    Traceback (most recent call last):
    ...
    streamapp.importer.csv_orders.RowError: customer_id is empty
    """
    customer = (row.get(mapping.customer) or "").strip()
    if not customer:
        raise RowError(f"{mapping.customer} is empty")
    when = parse_time(row.get(mapping.time) or "", mapping.date_format)
    properties: dict[str, Any] = {"revenue": parse_amount(row.get(mapping.amount) or "")}
    currency = (row.get(mapping.currency) or "").strip() if mapping.currency else ""
    currency = currency or (mapping.default_currency or "")
    if currency:
        properties["currency"] = currency.upper()
    if mapping.order_id and (order_id := (row.get(mapping.order_id) or "").strip()):
        properties["orderId"] = order_id
    return {
        "type": "track",
        "event": ORDER_EVENT,
        "userId": customer,
        "messageId": f"csv-{fingerprint}-{row_number}",
        "timestamp": when.isoformat(),
        "properties": properties,
        "context": {"library": {"name": "streamapp import-csv"}},
    }
