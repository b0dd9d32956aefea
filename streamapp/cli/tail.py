"""``streamapp tail``: follow change events as they are published, pretty and filterable.

It reads ``segment-changes`` without a consumer group (it commits nothing and disturbs no one):
from the end by default, from the start with ``--from-beginning``.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import orjson
import typer
from aiokafka import TopicPartition
from aiokafka.errors import KafkaError
from rich.console import Console
from rich.text import Text

from streamapp.cli.dlq import open_consumer, partition_ids
from streamapp.cli.errors import EXPLAINED, fail
from streamapp.forwarder.signing import wanted
from streamapp.settings import Settings, get_settings

CHANGE_STYLES = {"entered": "green", "moved": "yellow", "exited": "red"}


def change_line(change: Mapping[str, Any]) -> Text:
    """One change event as a coloured line.

    >>> str(change_line({"emitted_at": "2026-01-05T10:00:00+00:00", "customer_id": "u1",
    ...                  "kind": "cluster", "change": "moved", "segment": "seg-3",
    ...                  "segment_name": "big", "previous_segment": "seg-1", "model_version": 4}))
    '10:00:00  u1  moved  seg-1 → seg-3 (big)  cluster · model v4'
    """
    when = str(change.get("emitted_at") or "")
    with contextlib.suppress(ValueError):
        when = datetime.fromisoformat(when).strftime("%H:%M:%S")
    line = Text(f"{when}  ")
    line.append(str(change.get("customer_id")), style="bold")
    verb = str(change.get("change"))
    line.append(f"  {verb}  ", style=CHANGE_STYLES.get(verb, ""))
    if change.get("previous_segment"):
        line.append(f"{change['previous_segment']} → ")
    line.append(str(change.get("segment") or "—"), style="bold")
    if change.get("segment_name"):
        line.append(f" ({change['segment_name']})")
    line.append(f"  {change.get('kind')} · model v{change.get('model_version')}", style="dim")
    return line


async def _follow(settings: Settings, console: Console, kinds: list[str], segments: list[str],
                  customers: list[str], from_beginning: bool, as_json: bool,
                  limit: int | None, idle: float | None) -> int:
    consumer = await open_consumer(settings)
    shown = 0
    try:
        partitions = await partition_ids(settings, settings.changes_topic)
        if not partitions:
            await consumer.stop()
            fail(f"topic {settings.changes_topic} does not exist yet — start `streamapp worker`")
        tps = [TopicPartition(settings.changes_topic, p) for p in sorted(partitions)]
        consumer.assign(tps)
        if from_beginning:
            await consumer.seek_to_beginning(*tps)
        else:
            await consumer.seek_to_end(*tps)
        quiet = 0.0
        while limit is None or shown < limit:
            batches = await consumer.getmany(timeout_ms=500)
            quiet = 0.0 if batches else quiet + 0.5
            if idle is not None and quiet >= idle:
                break
            for messages in batches.values():
                for message in messages:
                    change = orjson.loads(message.value)
                    if customers and change.get("customer_id") not in customers:
                        continue
                    if not wanted(change, kinds, segments):
                        continue
                    if as_json:
                        typer.echo(message.value.decode())
                    else:
                        console.print(change_line(change))
                    shown += 1
                    if limit is not None and shown >= limit:
                        return shown
    finally:
        await consumer.stop()
    return shown


def tail(
    kind: list[str] = typer.Option([], help="only this kind (cluster, audience); repeatable"),
    segment: list[str] = typer.Option([], help="only changes into or out of this segment"),
    customer: list[str] = typer.Option([], help="only this customer; repeatable"),
    from_beginning: bool = typer.Option(False, "--from-beginning",
                                        help="start at the oldest change kept by Kafka"),
    as_json: bool = typer.Option(False, "--json", help="print each change's JSON, one a line"),
    limit: int | None = typer.Option(None, min=1, help="stop after this many changes"),
    idle: float | None = typer.Option(None, min=0.5,
                                      help="stop after this many seconds without changes"),
) -> None:
    """Follow change events live (Ctrl-C stops), optionally filtered."""
    settings = get_settings()
    try:
        asyncio.run(_follow(settings, Console(), kind, segment, customer, from_beginning,
                            as_json, limit, idle))
    except KeyboardInterrupt:
        pass
    except EXPLAINED as error:
        fail(str(error))
    except KafkaError as error:
        fail(f"reading {settings.changes_topic} failed: {error}")


def register(app: typer.Typer) -> None:
    """Add ``tail`` to the command line."""
    app.command("tail")(tail)
