"""``streamapp dev up|down|status``: Kafka and Redis on this machine, for development and tests."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.table import Table

from streamapp.cli.errors import fail
from streamapp.dev.errors import ServiceError
from streamapp.dev.kafka_config import KAFKA_VERSION
from streamapp.dev.services import ensure_services, service_status, stop_services
from streamapp.settings import get_settings

console = Console()

dev_app = typer.Typer(
    name="dev",
    help=(
        "Local Kafka and Redis for development: a single-node KRaft broker (Apache Kafka "
        f"{KAFKA_VERSION}, jars fetched once with Maven) and redis-server, on loopback at "
        "STREAMAPP_KAFKA_BOOTSTRAP and STREAMAPP_REDIS_URL."
    ),
    no_args_is_help=True,
)


@dev_app.command()
def up() -> None:
    """Start Kafka and Redis unless they already answer, and wait until both do.

    Safe to run twice: services that already answer at the configured addresses are reused.
    The first run fetches the Kafka jars from Maven Central (needs java and mvn).
    A missing redis-server is installed with apt-get when running as root.
    """
    try:
        ensure_services(get_settings(), console)
    except ServiceError as error:
        fail(str(error))
    console.print("Kafka and Redis are ready; `streamapp dev down` stops what dev up started.")


@dev_app.command()
def down() -> None:
    """Stop the Kafka and Redis that `streamapp dev up` started (SIGTERM, then SIGKILL).

    Services started some other way are left running.
    Data and logs stay in the cache directory (STREAMAPP_CACHE_DIR).
    """
    try:
        stop_services(get_settings(), console)
    except ServiceError as error:
        fail(str(error))


@dev_app.command()
def status() -> None:
    """Show whether Kafka and Redis answer, and who started them.

    Exit code 0 when both answer, 1 otherwise.
    """
    try:
        rows = service_status(get_settings())
    except ServiceError as error:
        fail(str(error))
    table = Table(title="streamapp dev services")
    for column in ("service", "address", "answering", "started by", "detail"):
        table.add_column(column)
    for row in rows:
        answering = "[green]yes[/]" if row.answering else "[red]no[/]"
        table.add_row(row.name, row.address, answering, row.origin, row.detail)
    console.print(table)
    if not all(row.answering for row in rows):
        raise typer.Exit(code=1)


def register(app: typer.Typer) -> None:
    """Add the ``dev`` command group to ``app``."""
    app.add_typer(dev_app, name="dev")
