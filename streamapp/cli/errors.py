"""How commands fail: a message that says what to do, exit code 1, no stack trace."""

from __future__ import annotations

from typing import NoReturn

import typer
from rich.console import Console

from streamapp.kafka import ServiceUnavailable
from streamapp.security import SecuritySettingsError

stderr = Console(stderr=True)

# Errors whose message already tells the user what to do: a service that did not answer or
# turned us away, a TLS file that cannot serve. Commands that connect catch these together and
# show them with fail(), so a new kind is added here once rather than in every command.
EXPLAINED: tuple[type[Exception], ...] = (ServiceUnavailable, SecuritySettingsError)


def fail(message: str) -> NoReturn:
    """Print ``message`` in red on stderr and exit with code 1."""
    stderr.print(f"[bold red]error:[/] {message}")
    raise typer.Exit(code=1)
