"""Planning a CSV import: line numbers of refused rows, column checks."""

from __future__ import annotations

import orjson
import pytest
import typer

from streamapp.cli.import_csv import plan_import
from streamapp.importer.csv_orders import ColumnMapping


def test_rows_become_keyed_events_and_refusals_name_their_line() -> None:
    text = ('id,when,eur\n"c1",20240101,5\nc2,20240102,"1,5"\n,20240101,3\n'
            'c3,"2024-01-03",oops\nc1,20240101,5\n')
    plan = plan_import(text, ColumnMapping("id", "when", "eur"), "fp", ",", 65536)
    assert plan.rows == 5 and len(plan.records) == 3 and plan.rejected == 2
    assert [r.line_number for r in plan.first_rejections] == [4, 5]
    keys = [key for key, _ in plan.records]
    assert keys == [b"c1", b"c2", b"c1"]
    ids = [orjson.loads(value)["messageId"] for _, value in plan.records]
    assert len(set(ids)) == 3  # the two identical c1 rows are two orders


def test_a_missing_column_is_a_usage_error() -> None:
    with pytest.raises(typer.BadParameter, match="no column 'amount'"):
        plan_import("customer_id,timestamp\nc1,20240101\n", ColumnMapping(), "fp", ",", 65536)


def test_a_row_too_large_for_the_worker_is_refused() -> None:
    text = "customer_id,timestamp,amount\n" + "c" * 200 + ",20240101,5\n"
    plan = plan_import(text, ColumnMapping(), "fp", ",", 256)
    assert plan.rejected == 1 and "STREAMAPP_MAX_EVENT_BYTES" in plan.first_rejections[0].reason
