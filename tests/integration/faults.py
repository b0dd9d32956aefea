"""Helpers of the fault tests: a steady producer, exact accounting, a private Redis, offsets."""

from __future__ import annotations

import asyncio
import itertools
import shutil
import socket
import subprocess
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer, TopicPartition
from redis.asyncio import Redis

from streamapp.store.keys import Keys
from tests.integration.conftest import Stack, wait_until
from tests.integration.kafka_helpers import publish, read_all
from tests.integration.truth import Truth


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def publish_steadily(bootstrap: str, topic: str, records: list[tuple[bytes, bytes]],
                           seconds: float, chunks: int = 40) -> None:
    """Spread ``records`` over about ``seconds``, so faults land mid-stream."""
    size = max(1, len(records) // chunks)
    for start in range(0, len(records), size):
        await publish(bootstrap, topic, records[start:start + size])
        await asyncio.sleep(seconds / chunks)


@dataclass
class Accounting:
    """Events lost and counted twice, over every customer, against the ground truth."""

    customers: int = 0
    events: int = 0
    lost: int = 0
    double_counted: int = 0
    wrong_profiles: int = 0

    def exact(self) -> bool:
        return self.lost == 0 and self.double_counted == 0 and self.wrong_profiles == 0


async def account(redis: Redis, prefix: str, truth: dict[str, Truth]) -> Accounting:
    result = Accounting(customers=len(truth))
    for customer_id, t in truth.items():
        e, n, r, v = (int(x or 0) for x in await redis.hmget(
            Keys(prefix).profile(customer_id), "e", "n", "r", "v"))
        result.events += t.events_total
        result.lost += max(0, t.events_total - e)
        result.double_counted += max(0, e - t.events_total)
        if (e, n, r, v) != (t.events_total, t.orders_total, t.revenue_cents, t.page_views):
            result.wrong_profiles += 1
    return result


async def reach_truth(redis: Redis, stack: Stack, truth: dict[str, Truth], timeout: float,
                      what: str) -> Accounting:
    """Wait until every profile equals the ground truth (failing with ``what`` and the worker's
    log after ``timeout`` seconds); return the final accounting."""

    async def exact() -> bool:
        return (await account(redis, stack.name, truth)).exact()

    await wait_until(exact, timeout, what, stack.worker_log, stack)
    return await account(redis, stack.name, truth)


async def change_stories_agree(redis: Redis, prefix: str, bootstrap: str,
                               topic: str) -> dict[str, Any]:
    """Change events deduplicated by event_id tell each customer's story up to its segment.

    Returns figures; raises AssertionError on the first customer whose story disagrees.
    """
    changes = [orjson.loads(v) for _, v in await read_all(bootstrap, topic)]
    unique: dict[str, dict[str, Any]] = {}
    for change in changes:
        unique.setdefault(change["event_id"], change)
    stories: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for change in unique.values():
        stories[change["customer_id"]].append(change)
    counts: dict[str, int] = defaultdict(int)
    async for key in redis.scan_iter(match=Keys(prefix).profile_pattern, count=1000):
        customer = Keys(prefix).customer_id(key)
        segment = (await redis.hget(key, "s") or b"").decode() or None
        story = stories.get(customer, [])
        if segment is None:
            assert story == [], customer
            continue
        counts[segment] += 1
        # Kafka keeps one key's records in order, and a customer's changes share a key.
        assert story[0]["change"] == "entered", customer
        for before, after in itertools.pairwise(story):
            assert after["previous_segment"] == before["segment"], customer
        assert story[-1]["segment"] == segment, customer
    stored = {k.decode(): int(v) for k, v in
              (await redis.hgetall(Keys(prefix).cluster_counts)).items()}
    assert stored == dict(counts)
    return {"published": len(changes), "duplicates": len(changes) - len(unique),
            "customers_segmented": sum(counts.values())}


async def committed_offsets(bootstrap: str, group: str, topic: str,
                            partitions: int = 4) -> dict[int, int]:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group,
                                enable_auto_commit=False)
    await consumer.start()
    try:
        return {p: (await consumer.committed(TopicPartition(topic, p))) or 0
                for p in range(partitions)}
    finally:
        await consumer.stop()


@dataclass
class OwnRedis:
    """A redis-server of the test's own, with an append-only file, on a free port."""

    port: int
    workdir: Path
    extra_args: tuple[str, ...] = ()
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        binary = shutil.which("redis-server")
        assert binary is not None, "redis-server is not installed: apt-get install redis-server"
        self.process = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.workdir),
             "--appendonly", "yes", "--appendfsync", "always", "--save", "", *self.extra_args],
            stdout=(self.workdir / "redis.log").open("ab"), stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", self.port)) == 0:
                    time.sleep(0.3)  # loading the AOF: the port opens first
                    return
            time.sleep(0.1)
        raise AssertionError(f"redis-server did not start on {self.port}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=20)
        self.process = None


@contextmanager
def own_redis(workdir: Path, *extra_args: str) -> Iterator[OwnRedis]:
    server = OwnRedis(free_port(), workdir, extra_args)
    server.start()
    try:
        yield server
    finally:
        server.stop()
