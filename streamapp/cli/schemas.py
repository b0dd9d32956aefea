"""``streamapp schemas export``: JSON Schemas of the wire formats, generated from the models."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import typer

from streamapp.events import DlqRecord, SegmentChange, input_event_schema

schemas = typer.Typer(help="JSON Schemas of the events streamapp reads and writes.",
                      no_args_is_help=True)


def all_schemas() -> dict[str, dict[str, Any]]:
    """File name -> schema, for every wire format.

    >>> sorted(all_schemas())
    ['customer-event.schema.json', 'dlq-record.schema.json', 'segment-change.schema.json']
    """
    return {
        "customer-event.schema.json": input_event_schema(),
        "segment-change.schema.json": SegmentChange.model_json_schema(),
        "dlq-record.schema.json": DlqRecord.model_json_schema(),
    }


def render(schema: dict[str, Any]) -> bytes:
    """A schema as the stable, indented JSON kept in ``schemas/``."""
    return orjson.dumps(schema, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS) + b"\n"


@schemas.command("export")
def export(out: Path = typer.Option(Path("schemas"), help="directory to write into")) -> None:
    """Write the JSON Schemas of input events, change events and DLQ records."""
    out.mkdir(parents=True, exist_ok=True)
    for name, schema in all_schemas().items():
        (out / name).write_bytes(render(schema))
        typer.echo(f"wrote {out / name}")


def register(app: typer.Typer) -> None:
    """Add ``schemas`` to the command line."""
    app.add_typer(schemas, name="schemas")
