"""``streamapp dlq list|show|replay``: inspect rejected input and send it back after a fix.

``replay`` republishes each DLQ record's original bytes, with its original key, to the input
topic, and remembers how far it got in the consumer group ``<app id>-dlq-replay``: replaying
again sends only what was rejected since, so a record is not counted twice by accident.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator
from typing import Any

import orjson
import typer
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import KafkaError
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

from streamapp.cli.errors import EXPLAINED, fail
from streamapp.kafka.connect import start_client
from streamapp.kafka.producer import KafkaPublisher
from streamapp.kafka.topics import kafka_admin
from streamapp.security import kafka_client_kwargs
from streamapp.settings import Settings, get_settings

# Seconds a command waits for Kafka before saying it did not answer.
CONNECT_TIMEOUT = 10.0

dlq_app = typer.Typer(help="Inspect the dead-letter queue and replay it after a fix.",
                      no_args_is_help=True)


def parse_position(text: str) -> tuple[int, int]:
    """``PARTITION:OFFSET`` as numbers.

    >>> parse_position("2:15")
    (2, 15)
    """
    partition, sep, offset = text.partition(":")
    if not sep or not partition.isdigit() or not offset.isdigit():
        raise typer.BadParameter(f"{text!r} is not PARTITION:OFFSET, e.g. 0:42")
    return int(partition), int(offset)


async def open_consumer(settings: Settings, group: str | None = None) -> AIOKafkaConsumer:
    """A started consumer that commits only by hand, assigned to nothing yet; raises
    :class:`~streamapp.kafka.ServiceUnavailable` saying why when it cannot start."""
    security = kafka_client_kwargs(settings)
    consumer = AIOKafkaConsumer(bootstrap_servers=settings.kafka_bootstrap, group_id=group,
                                enable_auto_commit=False, auto_offset_reset="earliest",
                                **security)
    await start_client(consumer, settings.kafka_bootstrap, security, CONNECT_TIMEOUT)
    return consumer


async def partition_ids(settings: Settings, topic: str) -> list[int]:
    """The partitions of ``topic``, none when it does not exist (an unsubscribed consumer does
    not know them, so the admin client asks)."""
    async with kafka_admin(settings) as admin:
        described = await admin.describe_topics([topic])
    return sorted(p["partition"] for d in described if not d.get("error_code")
                  for p in d.get("partitions", []))


async def read_dlq(consumer: AIOKafkaConsumer, topic: str, partitions: list[int],
                   from_start: bool) -> AsyncIterator[tuple[TopicPartition, Any, int]]:
    """(partition, message, records left) for each record up to the end as of now."""
    tps = [TopicPartition(topic, p) for p in partitions]
    if not tps:
        return
    consumer.assign(tps)
    if from_start:
        await consumer.seek_to_beginning(*tps)
    ends = await consumer.end_offsets(tps)
    positions = {tp: await consumer.position(tp) for tp in tps}
    left = sum(max(ends[tp] - positions[tp], 0) for tp in tps)
    remaining = {tp for tp in tps if positions[tp] < ends[tp]}
    while remaining:
        batches = await consumer.getmany(*remaining, timeout_ms=1000)
        for tp, messages in batches.items():
            for message in messages:
                if message.offset >= ends[tp]:
                    remaining.discard(tp)
                    break
                left -= 1
                yield tp, message, left
                if message.offset + 1 >= ends[tp]:
                    remaining.discard(tp)


async def _list(settings: Settings, error_type: str | None, limit: int) -> list[dict[str, Any]]:
    consumer = await open_consumer(settings)
    rows: list[dict[str, Any]] = []
    try:
        partitions = await partition_ids(settings, settings.dlq_topic)
        async for _, message, _ in read_dlq(consumer, settings.dlq_topic, partitions, True):
            record = orjson.loads(message.value)
            if error_type is None or record.get("error_type") == error_type:
                rows.append({"position": f"{message.partition}:{message.offset}", **record})
    finally:
        await consumer.stop()
    return rows[-limit:]


@dlq_app.command("list")
def list_records(
    error_type: str | None = typer.Option(None, help="only this reason, e.g. invalid_json"),
    limit: int = typer.Option(50, min=1, help="show the newest this many"),
    as_json: bool = typer.Option(False, "--json", help="print JSON, one record a line"),
) -> None:
    """List rejected input: where it is, why it was refused, when."""
    settings = get_settings()
    rows = _run(_list(settings, error_type, limit), settings)
    if as_json:
        for row in rows:
            typer.echo(orjson.dumps(row).decode())
        return
    table = Table(title=f"{settings.dlq_topic} · {len(rows)} shown")
    for column in ("position", "reason", "error", "received at", "from"):
        table.add_column(column)
    for row in rows:
        table.add_row(row["position"], row.get("error_type", ""),
                      escape(str(row.get("error", ""))[:80]), str(row.get("received_at", ""))[:19],
                      f"{row.get('topic')}:{row.get('partition')}:{row.get('offset')}")
    Console().print(table)


@dlq_app.command("show")
def show(position: str = typer.Argument(..., metavar="PARTITION:OFFSET",
                                        help="as printed by `streamapp dlq list`")) -> None:
    """Show one rejected record in full, with its original payload decoded."""
    settings = get_settings()
    partition, offset = parse_position(position)
    rows = _run(_list(settings, None, 10**9), settings)
    found = next((r for r in rows if r["position"] == f"{partition}:{offset}"), None)
    if found is None:
        fail(f"no DLQ record at {position} in {settings.dlq_topic} — see `streamapp dlq list`")
    payload = base64.b64decode(found.pop("payload_b64", ""))
    typer.echo(orjson.dumps(found, option=orjson.OPT_INDENT_2).decode())
    typer.echo("payload:")
    typer.echo(payload.decode("utf-8", errors="replace"))


async def _replay(settings: Settings, error_type: str | None, from_start: bool, dry_run: bool,
                  progress: Progress) -> tuple[int, int]:
    consumer = await open_consumer(settings, f"{settings.app_id}-dlq-replay")
    sent = skipped = 0
    task = progress.add_task("replay", total=None)
    try:
        async with KafkaPublisher.from_settings(settings) as publisher:
            partitions = await partition_ids(settings, settings.dlq_topic)
            async for tp, message, left in read_dlq(consumer, settings.dlq_topic, partitions,
                                                    from_start):
                progress.update(task, total=sent + skipped + left + 1)
                record = orjson.loads(message.value)
                if error_type is not None and record.get("error_type") != error_type:
                    skipped += 1
                elif not dry_run:
                    payload = base64.b64decode(record["payload_b64"])
                    sent += await publisher.send_many([(message.key, payload)],
                                                      settings.events_topic)
                else:
                    sent += 1
                progress.update(task, completed=sent + skipped)
                if not dry_run:  # sent and acknowledged: never replay this one again
                    await consumer.commit({tp: message.offset + 1})
    finally:
        await consumer.stop()
    return sent, skipped


@dlq_app.command("replay")
def replay(
    error_type: str | None = typer.Option(None, help="only this reason; others are passed over"),
    from_start: bool = typer.Option(False, "--from-start",
                                    help="also records replayed before (they count again)"),
    dry_run: bool = typer.Option(False, "--dry-run", help="count, send nothing"),
) -> None:
    """Send rejected records back to the input topic, after fixing what rejected them."""
    settings = get_settings()
    console = Console()
    columns = (TextColumn("[bold]replaying"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, console=console) as progress:
        sent, skipped = _run(_replay(settings, error_type, from_start, dry_run, progress),
                             settings)
    verb = "would send" if dry_run else "sent"
    console.print(f"{verb} {sent:,} records from {escape(settings.dlq_topic)} to "
                  f"{escape(settings.events_topic)}; {skipped:,} passed over")


def _run(coroutine: Any, settings: Settings) -> Any:
    try:
        return asyncio.run(coroutine)
    except EXPLAINED as error:
        fail(str(error))
    except KafkaError as error:
        fail(f"reading {settings.dlq_topic} failed: {error}")


def register(app: typer.Typer) -> None:
    """Add ``dlq`` to the command line."""
    app.add_typer(dlq_app, name="dlq")
