"""Kafka and Redis for development: start what is missing, reuse what answers, stop what we started.

This is the API behind ``streamapp dev up|down|status``; ``streamapp demo`` and the integration
tests call it too. Every failure is a :class:`~streamapp.dev.errors.ServiceError` whose message says
what to do.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from rich.console import Console

from streamapp.dev.addresses import Address, is_loopback
from streamapp.dev.errors import ServiceError
from streamapp.dev.kafka_broker import KafkaBroker
from streamapp.dev.probes import Probe
from streamapp.dev.processes import log_size, log_tail, running_pid, stop
from streamapp.dev.redis_server import RedisServer
from streamapp.settings import Settings

POLL_INTERVAL = 0.5


class LocalService(Protocol):
    """What ``dev`` needs to know about a service to start, wait for and stop it."""

    @property
    def name(self) -> str: ...
    @property
    def setting(self) -> str: ...
    @property
    def address(self) -> Address: ...
    @property
    def pid_file(self) -> Path: ...
    @property
    def marker(self) -> str: ...
    @property
    def log_files(self) -> tuple[Path, ...]: ...
    @property
    def startup_timeout(self) -> float: ...
    @property
    def stop_grace(self) -> float: ...

    def probe(self) -> Probe: ...
    def prepare(self, console: Console) -> None: ...
    def launch(self) -> None: ...


@dataclass(frozen=True)
class ServiceStatus:
    """One row of ``streamapp dev status``.

    >>> ServiceStatus("Redis", "127.0.0.1:6379", True, None, "PONG").origin
    'external'
    >>> ServiceStatus("Kafka", "127.0.0.1:9092", True, 4242, "ok").origin
    'streamapp (pid 4242)'
    """

    name: str
    address: str
    answering: bool
    pid: int | None
    detail: str

    @property
    def origin(self) -> str:
        """Who runs it: ``dev up`` (with the pid), someone else, or nobody."""
        if self.pid is not None:
            return f"streamapp (pid {self.pid})"
        return "external" if self.answering else "-"


def local_services(settings: Settings) -> list[LocalService]:
    """The services ``dev`` manages for these settings, Kafka first."""
    return [KafkaBroker.from_settings(settings), RedisServer.from_settings(settings)]


def ensure_services(settings: Settings, console: Console | None = None) -> None:
    """Make Kafka and Redis answer at the settings' addresses: reuse, or start and wait.

    Blocking: it may take a minute the first time (jars, formatting). From async code, run it in
    a thread (``await asyncio.to_thread(ensure_services, settings, console)``).
    """
    out = console or Console(quiet=True)
    for service in local_services(settings):
        _ensure(service, out)


def stop_services(settings: Settings, console: Console | None = None) -> None:
    """Stop the services ``dev up`` started for these settings; leave anything else running."""
    out = console or Console(quiet=True)
    for service in local_services(settings):
        pid = running_pid(service.pid_file, service.marker)
        if pid is None:
            out.print(f"[dim]·[/] {service.name} at {service.address}: not started by streamapp")
            continue
        started = time.monotonic()
        with out.status(f"{service.name}: stopping pid {pid}"):
            how = stop(pid, service.marker, service.stop_grace)
        service.pid_file.unlink(missing_ok=True)
        out.print(
            f"[green]✓[/] {service.name} at {service.address} {how} "
            f"(pid {pid}, {time.monotonic() - started:.1f} s)"
        )


def service_status(settings: Settings) -> list[ServiceStatus]:
    """Whether each service answers, and whether ``dev up`` started it."""
    rows = []
    for service in local_services(settings):
        probe = service.probe()
        pid = running_pid(service.pid_file, service.marker)
        address = str(service.address)
        rows.append(ServiceStatus(service.name, address, probe.answering, pid, probe.detail))
    return rows


def _ensure(service: LocalService, console: Console) -> None:
    name, address = service.name, service.address
    probe = service.probe()
    pid = running_pid(service.pid_file, service.marker)
    if probe.answering:
        origin = f"streamapp, pid {pid}" if pid else "external"
        console.print(f"[green]✓[/] {name} at {address} answers: reusing it ({origin})")
        return
    if probe.taken_by_other and pid is None:
        raise ServiceError(
            f"{address} is taken by something that is not {name} ({probe.detail}); "
            f"stop it, or set {service.setting} to a free port"
        )
    if pid is None:
        if not is_loopback(address.host):
            raise ServiceError(
                f"{name} at {address} does not answer, and dev up only starts services on this "
                f"machine's loopback; start {name} there or set {service.setting}"
            )
        service.prepare(console)
        probe = service.probe()  # installing a package may have started a system service
        if probe.answering:
            console.print(f"[green]✓[/] {name} at {address} answers: reusing it (external)")
            return
    log_starts = {path: log_size(path) for path in service.log_files}
    started = time.monotonic()
    if pid is None:
        service.launch()
    _wait_until_answering(service, console, started, log_starts)


def _wait_until_answering(
    service: LocalService, console: Console, started: float, log_starts: dict[Path, int]
) -> None:
    name, address = service.name, service.address
    logs = " and ".join(str(path) for path in service.log_files)
    with console.status(f"{name}: starting at {address}") as status:
        while True:
            probe = service.probe()
            elapsed = time.monotonic() - started
            pid = running_pid(service.pid_file, service.marker)
            if probe.answering:
                break
            if pid is None:
                raise ServiceError(
                    f"{name} exited while starting at {address}; see {logs}"
                    + _new_log_lines(log_starts)
                )
            if elapsed > service.startup_timeout:
                stop(pid, service.marker, service.stop_grace)
                service.pid_file.unlink(missing_ok=True)
                raise ServiceError(
                    f"{name} did not answer at {address} within {service.startup_timeout:.0f} s "
                    f"({probe.detail}); it was stopped - see {logs}" + _new_log_lines(log_starts)
                )
            status.update(f"{name}: waiting for {address} ({elapsed:.0f} s, {probe.detail})")
            time.sleep(POLL_INTERVAL)
    console.print(f"[green]✓[/] {name} ready at {address} in {elapsed:.1f} s (pid {pid or '?'})")


def _new_log_lines(log_starts: dict[Path, int]) -> str:
    """What the logs gained since ``log_starts``, file by file, to quote in an error."""
    quoted = []
    for path, start in log_starts.items():
        lines = log_tail(path, since=start)
        if lines:
            quoted.append(f"\n  {path.name}:\n{lines}")
    return "".join(quoted)
