"""``streamapp demo``: the whole stack on this machine, with live segment counts in the terminal.

Brings Kafka and Redis up (reusing ones that already answer), starts a worker and the simulator
as child processes, and shows the counts until Ctrl-C; then stops everything it started.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
import time
from pathlib import Path

import typer
from rich.console import Console

from streamapp.cli.errors import EXPLAINED, fail
from streamapp.cli.segments import segments_table
from streamapp.dev.errors import ServiceError
from streamapp.dev.services import ensure_services, service_status, stop_services
from streamapp.pipeline.lookup import Lookup
from streamapp.security import kafka_client_kwargs
from streamapp.settings import Settings, get_settings
from streamapp.store.client import connect_redis


def _spawn(args: list[str], log: Path, env: dict[str, str] | None = None,
           ) -> subprocess.Popen[bytes]:
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as out:
        return subprocess.Popen([sys.executable, "-m", "streamapp", *args], env=env,
                                stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)


def _worker_env(settings: Settings, audiences: Path) -> dict[str, str]:
    """The worker's environment: the example audiences unless the user chose a file."""
    env = dict(os.environ)
    if settings.audiences_file is None and audiences.exists():
        env["STREAMAPP_AUDIENCES_FILE"] = str(audiences.resolve())
    return env


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


async def _show(settings: Settings, console: Console, duration: float,
                children: dict[str, subprocess.Popen[bytes]]) -> None:
    from rich.live import Live

    redis = connect_redis(settings)
    lookup = Lookup(settings, redis)
    deadline = time.monotonic() + duration if duration > 0 else float("inf")
    try:
        with Live(console=console, refresh_per_second=4) as live:
            while time.monotonic() < deadline:
                table = segments_table(await lookup.segments())
                states = ", ".join(f"{name}: {'running' if p.poll() is None else 'finished'}"
                                   for name, p in children.items())
                table.caption = f"{states} · Ctrl-C to stop"
                live.update(table)
                if children["worker"].poll() is not None:
                    raise RuntimeError("the worker stopped")
                await asyncio.sleep(1.0)
    finally:
        await redis.aclose()


def run(
    customers: int = typer.Option(2000, help="simulated customers"),
    days_per_second: float = typer.Option(
        1.0, help="simulated days of customer behaviour per real second"),
    duration: float = typer.Option(0.0, help="stop after this many seconds (0: until Ctrl-C)"),
    seed: int = typer.Option(7, help="seed of the simulation"),
    audiences: str = typer.Option(
        "audiences.example.yaml",
        help="audiences file for the worker when STREAMAPP_AUDIENCES_FILE is not set"),
) -> None:
    """Run Kafka, Redis, a worker and the simulator, and watch the segments change live."""
    settings = get_settings()
    console = Console()
    try:
        # The worker and the simulator would each stop on a TLS file that cannot serve, and say
        # why only in their logs: check it here, where the user reads.
        kafka_client_kwargs(settings)
        already = [s.name for s in service_status(settings) if s.answering]
        ensure_services(settings, console)
    except ServiceError as exc:
        fail(str(exc))
    except EXPLAINED as exc:
        fail(str(exc))
    logs = settings.cache_dir / "demo"
    console.print(f"[dim]worker and simulator logs: {logs}[/]")
    children = {"worker": _spawn(["worker"], logs / "worker.log",
                                 _worker_env(settings, Path(audiences)))}
    # Without --duration the simulation covers ten minutes; the counts stay on screen after it.
    seconds = duration or 600.0
    children["simulator"] = _spawn(
        ["simulate", "--customers", str(customers), "--seed", str(seed),
         "--duration", str(seconds), "--days", str(seconds * days_per_second)],
        logs / "simulator.log")
    try:
        asyncio.run(_show(settings, console, duration, children))
    except KeyboardInterrupt:
        console.print("stopping…")
    except RuntimeError as exc:
        fail(f"{exc}; see {logs / 'worker.log'}")
    finally:
        for process in reversed(children.values()):
            _stop(process)
        if not already:
            with contextlib.suppress(Exception):
                stop_services(settings, console)


def register(app: typer.Typer) -> None:
    """Add ``demo`` to the command line."""
    app.command("demo")(run)
