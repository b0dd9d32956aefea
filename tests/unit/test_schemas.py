"""The JSON Schemas in schemas/ are generated from the models; this fails when they drift."""

from __future__ import annotations

from pathlib import Path

from streamapp.cli.schemas import all_schemas, render

SCHEMAS = Path(__file__).resolve().parents[2] / "schemas"


def test_schemas_match_the_models() -> None:
    stale = [name for name, schema in all_schemas().items()
             if not (SCHEMAS / name).exists() or (SCHEMAS / name).read_bytes() != render(schema)]
    assert stale == [], f"run `streamapp schemas export`: {stale} differ from the models"
