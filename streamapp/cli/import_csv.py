"""``streamapp import-csv FILE``: backfill historical orders from a CSV export.

Rows become ``Order Completed`` events (``streamapp.importer.csv_orders``) whose messageIds come
from the file's content and the row number. Running the same import twice changes nothing: a
finished import is recorded in Redis under the file's fingerprint and a second run stops there;
``--force`` publishes again, and the worker then drops each repeated messageId it still remembers
(the last ``STREAMAPP_DEDUPE_WINDOW`` per customer), so forcing is only safe for small files.
"""

from __future__ import annotations

import asyncio
import csv
import io
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import orjson
import typer
from aiokafka.errors import KafkaError
from redis.exceptions import RedisError
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

from streamapp.cli.errors import EXPLAINED, fail, stderr
from streamapp.cli.publish import SHOWN_REJECTIONS, Rejection, check_line
from streamapp.importer.csv_orders import ColumnMapping, RowError, file_fingerprint, row_to_event
from streamapp.kafka.producer import KafkaPublisher
from streamapp.kafka.topics import ensure_topics
from streamapp.settings import Settings, get_settings
from streamapp.store.client import connect_redis
from streamapp.store.keys import Keys

CHUNK = 2000


@dataclass
class ImportPlan:
    """The events of a file, ready to send, and the rows refused with why."""

    records: list[tuple[bytes, bytes]] = field(default_factory=list)
    rows: int = 0
    rejected: int = 0
    first_rejections: list[Rejection] = field(default_factory=list)

    def reject(self, line: int, reason: str) -> None:
        self.rejected += 1
        if len(self.first_rejections) < SHOWN_REJECTIONS:
            self.first_rejections.append(Rejection(line, reason))


def plan_import(text: str, mapping: ColumnMapping, fingerprint: str, delimiter: str,
                max_bytes: int) -> ImportPlan:
    """Turn every data row into a checked event; rows are reported by their line in the file.

    >>> plan = plan_import("customer_id,timestamp,amount\\nc1,20240101,5\\nc1,20240101,x\\n",
    ...                    ColumnMapping(), "f", ",", 65536)
    >>> plan.rows, len(plan.records), plan.first_rejections[0]
    (2, 1, Rejection(line_number=3, reason="amount 'x' is not a number"))
    """
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter)
    missing = mapping.missing(list(reader.fieldnames or []))
    if missing:
        raise typer.BadParameter(
            f"the file has no column {', '.join(map(repr, missing))}; its columns are "
            f"{', '.join(reader.fieldnames or [])} — map them with --customer-column, "
            "--time-column, --amount-column", param_hint="FILE")
    plan = ImportPlan()
    for number, row in enumerate(reader, start=1):
        plan.rows += 1
        try:
            event = row_to_event(row, number, mapping, fingerprint)
        except RowError as error:
            plan.reject(reader.line_num, str(error))
            continue
        checked = check_line(orjson.dumps(event), max_bytes)
        if isinstance(checked, str):
            plan.reject(reader.line_num, checked)
        else:
            plan.records.append(checked)
    return plan


async def _ledger(settings: Settings, fingerprint: str, entry: bytes | None = None) -> bytes | None:
    """The recorded import of a fingerprint; with ``entry``, record it."""
    redis = connect_redis(settings)
    try:
        key = Keys(settings.redis_prefix).imports
        if entry is not None:
            await redis.hset(key, fingerprint, entry)
            return entry
        found = await redis.hget(key, fingerprint)
        return found.encode() if isinstance(found, str) else found
    finally:
        await redis.aclose()


async def _send(settings: Settings, records: list[tuple[bytes, bytes]], progress: Progress,
                task: TaskID) -> int:
    sent = 0
    async with KafkaPublisher.from_settings(settings) as publisher:
        for start in range(0, len(records), CHUNK):
            sent += await publisher.send_many(records[start:start + CHUNK], settings.events_topic)
            progress.update(task, completed=sent)
    return sent


def import_csv(
    file: Annotated[Path, typer.Argument(help="CSV export with a header row", exists=True,
                                         dir_okay=False, readable=True)],
    customer_column: str = typer.Option("customer_id", help="column of the customer id"),
    time_column: str = typer.Option("timestamp", help="column of the order's date or time"),
    amount_column: str = typer.Option("amount", help="column of the order's amount"),
    order_id_column: str | None = typer.Option(None, help="column of the order id (optional)"),
    currency_column: str | None = typer.Option(None, help="column of the currency (optional)"),
    currency: str | None = typer.Option(None, help="currency of every row without a column"),
    date_format: str | None = typer.Option(
        None, help="strptime format such as %d/%m/%Y; default: YYYYMMDD or ISO-8601"),
    delimiter: str = typer.Option(",", help="field separator, e.g. ';' or '\\t'"),
    dry_run: bool = typer.Option(False, "--dry-run", help="check the rows, send nothing"),
    force: bool = typer.Option(False, "--force", help="publish again a file imported before"),
) -> None:
    """Backfill historical orders from a CSV file as Order Completed events.

    Each row is one order of one customer; dates may be YYYYMMDD, ISO-8601 or --date-format.
    The same file imported twice changes nothing; two identical rows are two orders.

    Exit code 0 when every row was sent, 1 when rows were refused or a service failed.
    """
    settings = get_settings()
    console = Console()
    content = file.read_bytes()
    fingerprint = file_fingerprint(file.name, content)
    mapping = ColumnMapping(customer_column, time_column, amount_column, order_id_column,
                            currency_column, date_format, currency)
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        fail(f"{file} is not UTF-8 text ({error.reason} at byte {error.start}); "
             "save the export as UTF-8")
    plan = plan_import(text, mapping, fingerprint, delimiter.replace("\\t", "\t"),
                       settings.max_event_bytes)
    for rejection in plan.first_rejections:
        stderr.print(f"line {rejection.line_number}: {rejection.reason}", markup=False)
    if plan.rejected > len(plan.first_rejections):
        stderr.print(f"… and {plan.rejected - len(plan.first_rejections):,} more")
    if dry_run:
        console.print(f"{len(plan.records):,} of {plan.rows:,} rows are valid orders; "
                      "nothing sent (--dry-run)")
        raise typer.Exit(code=1 if plan.rejected else 0)
    try:
        done = asyncio.run(_ledger(settings, fingerprint))
        if done is not None and not force:
            before = orjson.loads(done)
            console.print(f"{escape(str(file))} was imported before ({before['sent']:,} orders "
                          f"at {before['at']}); nothing to do — --force publishes it again")
            raise typer.Exit(code=0)
        asyncio.run(ensure_topics(settings))
        columns = (TextColumn(f"[bold]importing {escape(file.name)}"), BarColumn(),
                   MofNCompleteColumn(), TimeElapsedColumn())
        with Progress(*columns, console=console) as progress:
            task = progress.add_task("import", total=len(plan.records))
            sent = asyncio.run(_send(settings, plan.records, progress, task))
        entry = {"file": file.name, "rows": plan.rows, "sent": sent, "rejected": plan.rejected,
                 "at": datetime.now(UTC).isoformat(timespec="seconds")}
        asyncio.run(_ledger(settings, fingerprint, orjson.dumps(entry)))
    except EXPLAINED as error:
        fail(str(error))
    except KafkaError as error:
        fail(f"publishing to {settings.events_topic} failed: {error}; run the import again")
    except RedisError as error:
        fail(f"Redis did not answer ({error}) — run `streamapp dev up` or set STREAMAPP_REDIS_URL")
    console.print(f"sent {sent:,} orders from {escape(file.name)} to "
                  f"[bold]{escape(settings.events_topic)}[/]; "
                  f"{plan.rejected:,} of {plan.rows:,} rows refused")
    if plan.rejected:
        stderr.print("fix the refused rows in a new file holding only them and import that: an "
                     "edited copy of this file is a new file, and its other rows would count twice")
        raise typer.Exit(code=1)


def register(app: typer.Typer) -> None:
    """Add ``import-csv`` to the command line."""
    app.command("import-csv")(import_csv)
