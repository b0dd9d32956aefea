"""``streamapp profile ID``: one customer's profile, as a table or as the JSON contract."""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
import typer
from redis.exceptions import RedisError
from rich.console import Console
from rich.table import Table

from streamapp.cli.errors import fail
from streamapp.pipeline.lookup import Lookup
from streamapp.settings import get_settings
from streamapp.store.client import connect_redis


async def _read(customer_id: str) -> dict[str, Any] | None:
    settings = get_settings()
    redis = connect_redis(settings)
    try:
        return await Lookup(settings, redis).profile(customer_id)
    finally:
        await redis.aclose()


def show(
    customer_id: str = typer.Argument(..., metavar="ID", help="the customer id (userId)"),
    as_json: bool = typer.Option(False, "--json", help="print the profile contract as JSON"),
) -> None:
    """Show a customer's features, traits and segment."""
    try:
        profile = asyncio.run(_read(customer_id))
    except RedisError as exc:
        fail(f"Redis did not answer ({exc}) — run `streamapp dev up` or set STREAMAPP_REDIS_URL")
    if profile is None:
        fail(f"no customer {customer_id!r}: no event of theirs has been processed yet")
    if as_json:
        typer.echo(orjson.dumps(profile, option=orjson.OPT_INDENT_2).decode())
        return
    table = Table(title=f"customer {customer_id}", show_header=False)
    segment = profile["segment"]
    table.add_row("segment", f"{segment['id']} · {segment['name']}" if segment else "—")
    for name, value in profile["features"].items():
        table.add_row(name, "—" if value is None else str(value))
    for name, value in profile["traits"].items():
        table.add_row(f"trait {name}", value)
    table.add_row("model version", str(profile["model_version"]))
    Console().print(table)


def register(app: typer.Typer) -> None:
    """Add ``profile`` to the command line."""
    app.command("profile")(show)
