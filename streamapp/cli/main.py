"""The ``streamapp`` command: one sub-command group per module of this package.

Exit codes: 0 ok, 1 failure (with a message saying what to do), 2 usage.
"""

from __future__ import annotations

import typer

from streamapp.cli import (
    bench,
    demo,
    dev,
    dlq,
    forget,
    forward,
    import_csv,
    model,
    profile,
    publish,
    schemas,
    segments,
    simulate,
    tail,
    worker,
)

app = typer.Typer(
    name="streamapp",
    help="Streaming, real-time customer segmentation on Kafka, Faust and Redis.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

for module in (dev, demo, profile, publish, schemas, segments, simulate, worker, model, bench,
               forget, tail, dlq, import_csv, forward):
    module.register(app)


def main() -> None:
    """Entry point of the console script."""
    app()
