"""The contenders of ``streamapp bench throughput``, run as processes and timed the same way.

Each contender — the real worker and the three baselines — is a separate process started with
``STREAMAPP_*`` variables naming its own consumer group, Redis prefix and output topics, on the
same input topic. All are timed from outside, from their consumer group's committed offsets, so
no contender measures itself: the rate is (events committed between the first and the last commit
seen) / (time between them).
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import psutil  # type: ignore[import-untyped]  # no type stubs are installed for psutil
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import (
    GroupCoordinatorNotAvailableError,
    GroupLoadInProgressError,
    NotCoordinatorForGroupError,
)

from streamapp.dev.processes import stop_children

# Without its supervisor: a benchmark measures the worker process itself and must see it fail.
WORKER = ["streamapp", "worker", "--loglevel", "warning", "--no-restart"]
# name -> (what it is, the command after ``python -m``)
CONTENDERS: dict[str, tuple[str, list[str]]] = {
    "worker": ("streamapp worker", WORKER),
    # Two workers in one consumer group, each owning half of the partitions (docs/SCALING.md).
    "worker2": ("2 × streamapp worker", WORKER),
    "noop": ("no-op Faust agent, take_events(1000)", ["streamapp.bench.noop_agent"]),
    "naive": ("naive per-event pipeline", ["streamapp.bench.naive_pipeline"]),
    "raw": ("raw aiokafka consumer", ["streamapp.bench.raw_consumer"]),
}
# Not a contender (it is not timed by its rate): the latency floor, run after the worker's latency.
FLOOR = ("Kafka-only forwarder (latency floor)", ["streamapp.bench.latency_floor"])
# What ``start`` runs, by name.
COMMANDS = {**{name: command for name, (_, command) in CONTENDERS.items()}, "floor": FLOOR[1]}
POLL_SECONDS = 0.1
# A contender that commits nothing new for this long is stuck; its log says why.
STALL_SECONDS = 90.0


def free_port() -> int:
    """A TCP port nobody listens on now, for a worker's web server."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass(frozen=True)
class RunNames:
    """One contender run's own names on the shared services."""

    run_id: str
    events_topic: str

    @property
    def changes_topic(self) -> str:
        return f"{self.run_id}-changes"

    @property
    def dlq_topic(self) -> str:
        return f"{self.run_id}-dlq"

    def env(self, bootstrap: str, redis_url: str, extra: dict[str, str]) -> dict[str, str]:
        env = dict(os.environ)
        env.update({
            "STREAMAPP_KAFKA_BOOTSTRAP": bootstrap, "STREAMAPP_REDIS_URL": redis_url,
            "STREAMAPP_EVENTS_TOPIC": self.events_topic,
            "STREAMAPP_CHANGES_TOPIC": self.changes_topic, "STREAMAPP_DLQ_TOPIC": self.dlq_topic,
            "STREAMAPP_REDIS_PREFIX": self.run_id, "STREAMAPP_APP_ID": self.run_id,
            "STREAMAPP_WEB_PORT": str(free_port()),
        })
        env.update(extra)
        return env


@dataclass
class RateResult:
    """How fast one contender went, and how big its process grew."""

    events: int
    seconds: float
    max_rss_bytes: int
    samples: list[tuple[float, int]] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.events / self.seconds if self.seconds > 0 else 0.0

    def rate_after(self, count: int) -> float:
        """The rate once ``count`` events were committed: the steady state after a warm-up.

        >>> warm_then_fast = [(0.0, 100), (1.0, 200), (2.0, 400), (3.0, 600)]
        >>> RateResult(500, 3.0, 0, warm_then_fast).rate_after(200)
        200.0
        """
        later = [(t, c) for t, c in self.samples if c >= count]
        if len(later) < 2:
            return 0.0
        (t0, c0), (t1, c1) = later[0], later[-1]
        return (c1 - c0) / (t1 - t0) if t1 > t0 else 0.0


def start(contender: str, env: dict[str, str], log: Path) -> list[subprocess.Popen[bytes]]:
    """Start the processes of a contender or of the latency floor (``COMMANDS``), their output
    going to ``log``."""
    processes = []
    for _ in range(2 if contender == "worker2" else 1):
        with log.open("ab") as out:
            processes.append(subprocess.Popen(
                [sys.executable, "-m", *COMMANDS[contender]],
                env={**env, "STREAMAPP_WEB_PORT": str(free_port())},
                stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL))
    return processes


def stop(processes: list[subprocess.Popen[bytes]]) -> None:
    """Terminate a contender, killing what does not stop within 20 s."""
    stop_children(processes, grace=20)


async def committed(admin: AIOKafkaAdminClient, group: str, topic: str) -> int:
    """Events the group has committed on ``topic`` (the topic is fresh: offsets start at 0); 0
    while the broker has no coordinator for the group yet: a fresh broker creates its offsets
    topic when the first group asks, and a run right after ``streamapp dev up`` stopped there."""
    try:
        offsets = await admin.list_consumer_group_offsets(group)
    except (GroupCoordinatorNotAvailableError, GroupLoadInProgressError,
            NotCoordinatorForGroupError):
        return 0
    return sum(max(meta.offset, 0) for tp, meta in offsets.items() if tp.topic == topic)


async def measure_rate(processes: list[subprocess.Popen[bytes]], bootstrap: str, group: str,
                       topic: str, total: int, time_limit: float, log: Path,
                       tick: Callable[[int], None] = lambda _: None) -> RateResult:
    """Time a contender until it has committed ``total`` events or ``time_limit`` seconds passed
    since its first commit; raise ``RuntimeError`` with its log when it dies or stalls."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    procs = [psutil.Process(process.pid) for process in processes]
    samples: list[tuple[float, int]] = []
    max_rss = 0
    last_progress = time.monotonic()
    try:
        while True:
            for process in processes:
                if process.poll() is not None:
                    raise RuntimeError(f"{group} exited with {process.returncode}:\n{_tail(log)}")
            now, count = time.monotonic(), await committed(admin, group, topic)
            # Per process: the figure that must stay flat is one worker's footprint.
            max_rss = max(max_rss, *(proc.memory_info().rss for proc in procs))
            if count and (not samples or count > samples[-1][1]):
                samples.append((now, count))
                last_progress = now
                tick(count)
            if count >= total or (samples and now - samples[0][0] >= time_limit):
                break
            if now - last_progress > STALL_SECONDS:
                raise RuntimeError(f"{group} made no progress for {STALL_SECONDS:.0f} s:\n"
                                   f"{_tail(log)}")
            await asyncio.sleep(POLL_SECONDS)
    finally:
        await admin.close()
    return rate_result(group, samples, max_rss)


def rate_result(group: str, samples: list[tuple[float, int]], max_rss: int) -> RateResult:
    """The rate between the first and the last commit seen (``samples``: time, events).

    >>> rate_result("g", [(1.0, 2_000), (3.0, 10_000)], 0).rate
    4000.0

    One commit holding every event times nothing: the contender read them all within one commit
    interval. Said so, rather than reported as a rate of 0:

    >>> rate_result("g", [(1.0, 30_000)], 0)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    RuntimeError: g committed all 30,000 events at once, ...; publish more events (--events) ...
    """
    if len(samples) < 2:
        events = samples[-1][1] if samples else 0
        raise RuntimeError(
            f"{group} committed all {events:,} events at once, so its rate cannot be timed "
            f"from its commits; publish more events (--events) so that reading them spans "
            f"several commits")
    (t0, c0), (t1, c1) = samples[0], samples[-1]
    return RateResult(c1 - c0, t1 - t0, max_rss, samples)


def _tail(log: Path, size: int = 3000) -> str:
    return log.read_text(errors="replace")[-size:] if log.exists() else "(no log)"
