"""CSV rows to order events: dates, amounts, ids that survive a second import."""

from __future__ import annotations

import pytest

from streamapp.events import parse_event
from streamapp.importer.csv_orders import (
    ColumnMapping,
    RowError,
    file_fingerprint,
    parse_amount,
    parse_time,
    row_to_event,
)


@pytest.mark.parametrize(("text", "iso"), [
    ("20240131", "2024-01-31T00:00:00+00:00"),
    ("2024-01-31", "2024-01-31T00:00:00+00:00"),
    ("2024-01-31T10:00:00Z", "2024-01-31T10:00:00+00:00"),
    ("2024-01-31 10:00:00+02:00", "2024-01-31T10:00:00+02:00"),
])
def test_dates(text: str, iso: str) -> None:
    assert parse_time(text).isoformat() == iso


def test_custom_date_format_and_bad_dates() -> None:
    assert parse_time("01/02/2024", "%m/%d/%Y").isoformat() == "2024-01-02T00:00:00+00:00"
    for bad in ("", "2024-13-01", "20241301"):
        with pytest.raises(RowError):
            parse_time(bad)


def test_amounts() -> None:
    assert parse_amount("0") == 0.0
    assert parse_amount("€ 1,234.56") == 1234.56
    for bad in ("", "abc", "10000001", "1.2.3"):
        with pytest.raises(RowError):
            parse_amount(bad)


def test_identical_rows_are_two_orders_and_ids_are_stable() -> None:
    mapping = ColumnMapping(order_id="id", currency="cur")
    fingerprint = file_fingerprint("x.csv", b"content")
    row = {"customer_id": "c1", "timestamp": "20240101", "amount": "5", "id": "", "cur": "eur"}
    first, second = (row_to_event(row, n, mapping, fingerprint) for n in (1, 2))
    assert first["messageId"] != second["messageId"]
    assert first["messageId"] == row_to_event(row, 1, mapping, fingerprint)["messageId"]
    assert first["properties"] == {"revenue": 5.0, "currency": "EUR"}
    event = parse_event(__import__("orjson").dumps(first))
    assert event.is_order and event.revenue == 5.0 and event.customer_id == "c1"


def test_a_different_file_gives_different_ids() -> None:
    assert file_fingerprint("a", b"1") != file_fingerprint("a", b"2")


def test_default_currency_and_order_id() -> None:
    mapping = ColumnMapping(order_id="id", default_currency="usd")
    row = {"customer_id": "c1", "timestamp": "20240101", "amount": "5", "id": "o-9"}
    properties = row_to_event(row, 1, mapping, "f")["properties"]
    assert properties == {"revenue": 5.0, "currency": "USD", "orderId": "o-9"}
