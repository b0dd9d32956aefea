"""``streamapp model show [--json]``: the shared model's segments, fit and drift."""

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
from streamapp.pipeline.model_report import model_report
from streamapp.settings import get_settings
from streamapp.store.client import connect_redis

model = typer.Typer(help="Inspect the segmentation model.", no_args_is_help=True)


async def _report() -> dict[str, Any]:
    settings = get_settings()
    redis = connect_redis(settings)
    try:
        return model_report(await Lookup(settings, redis).segmenter())
    finally:
        await redis.aclose()


def report_tables(report: dict[str, Any]) -> list[Table]:
    """The report as rich tables: one row per segment, then the fit and drift figures."""
    features = report["features"]
    segments = Table(title=f"model v{report['version']} · {report['kind'] or 'not trained yet'}")
    segments.add_column("segment")
    segments.add_column("name")
    segments.add_column("weight", justify="right")
    for feature in features:
        segments.add_column(feature, justify="right")
    for s in report["segments"]:
        segments.add_row(s["id"], s["name"] or "", f"{s['weight']:.1f}",
                         *(f"{s['centre_raw'][f]:g}" for f in features))
    drift = report.get("drift") or {}
    fit = Table(show_header=False, title="fit and drift")
    fit.add_row("inertia (per point, standardized)", _figure(report.get("inertia")))
    fit.add_row("silhouette (recent points)", _figure(report.get("silhouette")))
    fit.add_row("half-life now (points)", _figure(report.get("halflife")))
    fit.add_row("points seen", _figure(report.get("points_seen")))
    fit.add_row("drifts detected", _figure(drift.get("drifts")))
    fit.add_row("last drift at version", _figure(drift.get("last_version")))
    fit.add_row("adapting faster now", "yes" if drift.get("adapting_faster") else "no")
    return [segments, fit]


def _figure(value: object) -> str:
    return "—" if value is None else str(value)


@model.command("show")
def show(
    as_json: bool = typer.Option(False, "--json", help="print the report as JSON"),
) -> None:
    """Show the version, centres (original units), weights, names, fit and last drift."""
    try:
        report = asyncio.run(_report())
    except RedisError as exc:
        fail(f"Redis did not answer ({exc}) — run `streamapp dev up` or set STREAMAPP_REDIS_URL")
    if as_json:
        typer.echo(orjson.dumps(report, option=orjson.OPT_INDENT_2).decode())
        return
    console = Console()
    for table in report_tables(report):
        console.print(table)


def register(app: typer.Typer) -> None:
    """Add ``model`` to the command line."""
    app.add_typer(model, name="model")
