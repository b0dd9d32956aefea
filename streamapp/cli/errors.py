"""How commands fail: a message that says what to do, exit code 1, no stack trace."""

from __future__ import annotations

from typing import NoReturn

import typer
from rich.console import Console

stderr = Console(stderr=True)


def fail(message: str) -> NoReturn:
    """Print ``message`` in red on stderr and exit with code 1."""
    stderr.print(f"[bold red]error:[/] {message}")
    raise typer.Exit(code=1)
