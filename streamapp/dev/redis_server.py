"""The dev Redis: the system's ``redis-server``, daemonized, in-memory only, on loopback.

Its configuration goes in on stdin (``redis-server -``) rather than as arguments, so a password from
``STREAMAPP_REDIS_URL`` never shows in the process list.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console

from streamapp.dev.addresses import Address, redis_address, redis_password
from streamapp.dev.errors import ServiceError, apt_hint
from streamapp.dev.probes import Probe, probe_redis
from streamapp.dev.processes import log_size, log_tail, read_pid, tail
from streamapp.settings import Settings

APT_INSTALL = ("apt-get", "install", "-y", "-qq", "redis-server")


def render_redis_config(
    address: Address, workdir: Path, pid_file: Path, log_file: Path, password: str | None
) -> str:
    """A ``redis.conf`` for a throwaway dev server: no snapshots, no append-only file.

    >>> print(render_redis_config(
    ...     Address("127.0.0.1", 6379), Path("r"), Path("r/p"), Path("r/l"), None), end="")
    port 6379
    bind 127.0.0.1
    daemonize yes
    dir "r"
    pidfile "r/p"
    logfile "r/l"
    save ""
    appendonly no
    >>> "requirepass \\"pw\\"" in render_redis_config(
    ...     Address("localhost", 1), Path("r"), Path("p"), Path("l"), "pw")
    True
    """
    # "localhost" may resolve to either family; "-" makes the IPv6 bind optional.
    bind = "127.0.0.1 -::1" if address.host == "localhost" else address.host
    lines = [
        f"port {address.port}",
        f"bind {bind}",
        "daemonize yes",
        f"dir {_quoted(str(workdir))}",
        f"pidfile {_quoted(str(pid_file))}",
        f"logfile {_quoted(str(log_file))}",
        'save ""',
        "appendonly no",
    ]
    if password:
        lines.append(f"requirepass {_quoted(password)}")
    return "".join(f"{line}\n" for line in lines)


def _not_installed() -> ServiceError:
    return ServiceError(f"redis-server is not installed — install it: {apt_hint('redis-server')}")


def _quoted(value: str) -> str:
    # Redis reads double-quoted config values with C-style escapes, which JSON's escapes match.
    return json.dumps(value, ensure_ascii=False)


@dataclass(frozen=True)
class RedisServer:
    """A ``redis-server`` started and tracked by ``streamapp dev``."""

    address: Address
    url: str
    cache_dir: Path

    name = "Redis"
    setting = "STREAMAPP_REDIS_URL"
    marker = "redis-server"
    startup_timeout = 15.0
    stop_grace = 10.0

    @classmethod
    def from_settings(cls, settings: Settings) -> RedisServer:
        """The server the settings point at."""
        return cls(
            address=redis_address(settings.redis_dsn),
            url=settings.redis_dsn,
            cache_dir=settings.cache_dir.expanduser().resolve(),
        )

    @property
    def home(self) -> Path:
        """This server's working directory."""
        return self.cache_dir / "redis" / str(self.address.port)

    @property
    def pid_file(self) -> Path:
        """Written by redis-server itself once it runs; removed when it stops."""
        return self.home / "redis.pid"

    @property
    def log_files(self) -> tuple[Path, ...]:
        """Where the server logs."""
        return (self.home / "redis.log",)

    def probe(self) -> Probe:
        """Whether a Redis answers PING at the address, with the URL's credentials."""
        return probe_redis(self.address, self.url)

    def prepare(self, console: Console) -> None:
        """Install redis-server when it is missing and we may (root, apt-get)."""
        if shutil.which("redis-server") is not None:
            return
        if os.geteuid() != 0 or shutil.which("apt-get") is None:
            raise _not_installed()
        environment = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        with console.status("Redis: installing redis-server with apt-get"):
            for command in (("apt-get", "update", "-qq"), APT_INSTALL):
                result = subprocess.run(
                    command, env=environment, capture_output=True, text=True, check=False
                )
                if result.returncode != 0:
                    raise ServiceError(
                        f"`{' '.join(command)}` failed (exit {result.returncode}):\n"
                        f"{tail(result.stdout + result.stderr)}"
                    )
        console.print("[green]✓[/] redis-server installed with apt-get")

    def launch(self) -> None:
        """Start redis-server; returns once it has daemonized and written its pid file."""
        binary = shutil.which("redis-server")
        if binary is None:
            raise _not_installed()
        self.home.mkdir(parents=True, exist_ok=True)
        config = render_redis_config(
            self.address,
            self.home,
            self.pid_file,
            self.log_files[0],
            redis_password(self.url),
        )
        log_start = log_size(self.log_files[0])
        result = subprocess.run(
            [binary, "-"], input=config, cwd=self.home, capture_output=True, text=True, check=False
        )
        if result.returncode != 0:
            raise ServiceError(
                f"redis-server refused to start (exit {result.returncode}):\n"
                f"{tail(result.stdout + result.stderr)}"
            )
        # The daemon writes its pid file after it has bound the port; if it never does, it died.
        deadline = time.monotonic() + 5.0
        while read_pid(self.pid_file) is None:
            if time.monotonic() > deadline:
                lines = log_tail(self.log_files[0], since=log_start)
                raise ServiceError(
                    f"redis-server exited while starting; see {self.log_files[0]}"
                    + (f":\n{lines}" if lines else "")
                )
            time.sleep(0.05)
