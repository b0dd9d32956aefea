"""``streamapp segments [--watch]``: live number of customers per segment."""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
import typer
from redis.exceptions import RedisError
from rich.console import Console
from rich.live import Live
from rich.table import Table

from streamapp.cli.errors import fail
from streamapp.pipeline.lookup import Lookup
from streamapp.settings import get_settings
from streamapp.store.client import connect_redis


def segments_table(view: dict[str, Any]) -> Table:
    """A table of the counts, with a bar per segment."""
    table = Table(title=f"segments · model v{view['model_version']} · "
                        f"{view['customers_total']} customers · now {view['watermark'] or '—'}")
    table.add_column("segment")
    table.add_column("name")
    table.add_column("customers", justify="right")
    table.add_column("")
    top = max([s["customers"] for s in view["segments"]] + [1])
    for s in view["segments"]:
        # A segment without a name was retired by a reseed; its customers move on their next event.
        table.add_row(s["id"], s["name"] or "[dim](retired)[/]", str(s["customers"]),
                      "█" * round(30 * s["customers"] / top))
    for a in view.get("audiences", []):
        table.add_row("audience", a["name"], str(a["customers"]), "")
    return table


async def _watch(lookup: Lookup, interval: float, console: Console) -> None:
    with Live(segments_table(await lookup.segments()), console=console,
              refresh_per_second=4) as live:
        while True:
            await asyncio.sleep(interval)
            live.update(segments_table(await lookup.segments()))


async def _run(watch: bool, as_json: bool, interval: float) -> None:
    settings = get_settings()
    redis = connect_redis(settings)
    lookup = Lookup(settings, redis)
    try:
        if watch:
            await _watch(lookup, interval, Console())
        elif as_json:
            typer.echo(orjson.dumps(await lookup.segments(), option=orjson.OPT_INDENT_2).decode())
        else:
            Console().print(segments_table(await lookup.segments()))
    finally:
        await redis.aclose()


def show(
    watch: bool = typer.Option(False, "--watch", help="refresh until Ctrl-C"),
    as_json: bool = typer.Option(False, "--json", help="print JSON instead of a table"),
    interval: float = typer.Option(1.0, help="seconds between refreshes with --watch"),
) -> None:
    """Show how many customers are in each segment right now."""
    try:
        asyncio.run(_run(watch, as_json, interval))
    except KeyboardInterrupt:
        pass
    except RedisError as exc:
        fail(f"Redis did not answer ({exc}) — run `streamapp dev up` or set STREAMAPP_REDIS_URL")


def register(app: typer.Typer) -> None:
    """Add ``segments`` to the command line."""
    app.command("segments")(show)
