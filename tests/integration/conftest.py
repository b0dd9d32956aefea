"""Fixtures for tests against the real Kafka and Redis: services, isolated names, workers."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import pytest_asyncio
from redis.asyncio import Redis

from streamapp.dev.processes import stop_children
from streamapp.store.keys import Keys
from tests.integration.kafka_helpers import delete_topics
from tests.integration.services import Services, real_services

pytestmark = pytest.mark.integration


@pytest.fixture(scope="session")
def services() -> Iterator[Services]:
    with real_services() as found:
        yield found


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Stack:
    """One test's own topics, consumer group and Redis prefix on the shared services."""

    services: Services
    name: str
    logs: Path
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @property
    def keys(self) -> Keys:
        """The Redis key names of this test's deployment (the worker's STREAMAPP_REDIS_PREFIX)."""
        return Keys(self.name)

    @property
    def events_topic(self) -> str:
        return f"{self.name}-events"

    @property
    def changes_topic(self) -> str:
        return f"{self.name}-changes"

    @property
    def dlq_topic(self) -> str:
        return f"{self.name}-dlq"

    def env(self, **overrides: str) -> dict[str, str]:
        env = dict(os.environ)
        env.update({
            "STREAMAPP_KAFKA_BOOTSTRAP": self.services.kafka_bootstrap,
            "STREAMAPP_REDIS_URL": self.services.redis_url,
            "STREAMAPP_EVENTS_TOPIC": self.events_topic,
            "STREAMAPP_CHANGES_TOPIC": self.changes_topic,
            "STREAMAPP_DLQ_TOPIC": self.dlq_topic,
            "STREAMAPP_REDIS_PREFIX": self.name,
            "STREAMAPP_APP_ID": self.name,
            "STREAMAPP_WEB_PORT": str(_free_port()),
            "STREAMAPP_BATCH_WINDOW": "0.1",
            # The model places its centres once it has seen 256 customer rows (one per customer
            # per batch); the tests' few thousand events, read in batches of 1,000, would be
            # over before that, and their segment checks would see only a cold start.
            "STREAMAPP_BATCH_SIZE": "200",
        })
        env.update(overrides)
        return env

    def start_worker(self, **overrides: str) -> subprocess.Popen[bytes]:
        """A real worker process, as operators run it."""
        log = (self.logs / f"worker-{len(self.processes)}.log").open("ab")
        process = subprocess.Popen(
            [sys.executable, "-m", "streamapp", "worker", "--loglevel", "info"],
            env=self.env(**overrides), stdout=log, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        self.processes.append(process)
        return process

    def check_workers(self) -> None:
        """Fail at once, with the log, when a worker process died on its own."""
        for process in self.processes:
            if process.poll() is not None and process.returncode not in (0, -15, -9):
                pytest.fail(f"a worker exited with {process.returncode}\n{self.worker_log()}")

    def stop_all(self) -> None:
        stop_children(self.processes, grace=20)

    def worker_log(self) -> str:
        return "\n".join(p.read_text(errors="replace")[-3000:] for p in sorted(
            self.logs.glob("worker-*.log")))


@pytest.fixture
def stack(services: Services, tmp_path: Path) -> Iterator[Stack]:
    st = Stack(services, f"it-{uuid.uuid4().hex[:10]}", tmp_path)
    yield st
    st.stop_all()
    asyncio.run(delete_topics(services.kafka_bootstrap,
                              [st.events_topic, st.changes_topic, st.dlq_topic]))


@pytest_asyncio.fixture
async def redis(stack: Stack) -> AsyncIterator[Redis]:
    client = Redis.from_url(stack.services.redis_url)
    yield client
    keys = [k async for k in client.scan_iter(match=stack.keys.pattern, count=1000)]
    for start in range(0, len(keys), 500):
        await client.delete(*keys[start:start + 500])
    await client.aclose()


async def wait_until(check: Callable[[], object], timeout: float, what: str,
                     on_timeout: Callable[[], str] = lambda: "", stack: Stack | None = None,
                     ) -> None:
    """Poll an async ``check`` until it returns truthy, or fail saying ``what`` did not happen."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if stack is not None:
            stack.check_workers()
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return
        await asyncio.sleep(0.25)
    pytest.fail(f"{what} within {timeout:.0f} s\n{on_timeout()}")
