"""streamapp on a real Redis Cluster: three local nodes, a real worker, the ground truth.

Every key of a deployment carries the hash tag ``{prefix}``, so the worker's scripts, which touch
a batch's profiles and the shared counts in one call, name keys of one slot (docs/SCALING.md).
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest

from streamapp.dev.processes import stop_children
from streamapp.settings import Settings
from streamapp.store.client import connect_redis
from tests.integration.conftest import Stack, wait_until
from tests.integration.faults import reach_truth
from tests.integration.http_helpers import run_cli, start_web_worker
from tests.integration.kafka_helpers import create_topic, event_records, publish
from tests.integration.truth import expected_profiles, make_events

pytestmark = pytest.mark.integration
NODES = 3
START = datetime(2026, 3, 1, tzinfo=UTC)


def _free_cluster_port() -> int:
    """A free port whose cluster bus port (the port + 10000) is free too."""
    for _ in range(100):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = int(s.getsockname()[1])
        if port + 10000 > 65535:
            continue
        with socket.socket() as bus:
            if bus.connect_ex(("127.0.0.1", port + 10000)) != 0:
                return port
    raise AssertionError("no free pair of ports for a cluster node")


@dataclass
class LocalCluster:
    """Three redis-server processes joined into one cluster, no persistence, no replicas."""

    workdir: Path
    ports: list[int] = field(default_factory=list)
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @property
    def url(self) -> str:
        """One node's URL: the cluster client learns the others from it."""
        return f"redis://127.0.0.1:{self.ports[0]}/0"

    def _cli(self, port: int, *args: str) -> str:
        return subprocess.run(["redis-cli", "-p", str(port), *args], capture_output=True,
                              text=True, timeout=30, check=True).stdout

    def start(self) -> None:
        binary = shutil.which("redis-server")
        assert binary and shutil.which("redis-cli"), \
            "redis-server is not installed: apt-get install redis-server"
        for n in range(NODES):
            port = _free_cluster_port()
            home = self.workdir / f"node-{n}"
            home.mkdir()
            self.ports.append(port)
            self.processes.append(subprocess.Popen(
                [binary, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(home),
                 "--cluster-enabled", "yes", "--cluster-config-file", str(home / "nodes.conf"),
                 "--appendonly", "no", "--save", ""],
                stdout=(home / "redis.log").open("ab"), stderr=subprocess.STDOUT))
        for port in self.ports:
            self._wait(lambda p=port: "PONG" in self._run(p, "PING"), f"node {port} answering")
        subprocess.run(["redis-cli", "--cluster", "create",
                        *(f"127.0.0.1:{p}" for p in self.ports),
                        "--cluster-replicas", "0", "--cluster-yes"],
                       capture_output=True, timeout=60, check=True)
        for port in self.ports:
            self._wait(lambda p=port: "cluster_state:ok" in self._run(p, "CLUSTER", "INFO"),
                       f"node {port} reporting cluster_state:ok")

    def _run(self, port: int, *args: str) -> str:
        with suppress(subprocess.CalledProcessError, subprocess.TimeoutExpired):
            return self._cli(port, *args)
        return ""

    @staticmethod
    def _wait(check: object, what: str, timeout: float = 20) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if callable(check) and check():
                return
            time.sleep(0.1)
        raise AssertionError(f"Redis Cluster: no {what} within {timeout:.0f} s")

    def stop(self) -> None:
        stop_children(self.processes, grace=10)


@contextmanager
def redis_cluster(workdir: Path) -> Iterator[LocalCluster]:
    cluster = LocalCluster(workdir)
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()


def _visits(anonymous_id: str, count: int) -> list[dict[str, object]]:
    return [{"type": "track", "anonymousId": anonymous_id, "event": "Order Completed",
             "properties": {"revenue": 20.0 + i}, "messageId": f"{anonymous_id}-{i}",
             "timestamp": (START + timedelta(hours=i)).isoformat()} if i % 2 else
            {"type": "page", "anonymousId": anonymous_id, "messageId": f"{anonymous_id}-{i}",
             "timestamp": (START + timedelta(hours=i)).isoformat()} for i in range(count)]


async def test_worker_on_a_redis_cluster_matches_the_ground_truth(
        stack: Stack, tmp_path: Path) -> None:
    with redis_cluster(tmp_path) as cluster:
        env = {"STREAMAPP_REDIS_URL": cluster.url, "STREAMAPP_REDIS_CLUSTER": "true"}
        redis = connect_redis(Settings(_env_file=None, redis_url=cluster.url,
                                       redis_cluster=True, redis_prefix=stack.name))
        keys = stack.keys
        try:
            # A cluster node named without the setting: the worker says what to set, at once.
            wrong = await run_cli(stack, "worker", "--no-restart", timeout=60,
                                  STREAMAPP_REDIS_URL=cluster.url)
            assert wrong.returncode == 1
            assert "STREAMAPP_REDIS_CLUSTER=true" in " ".join(wrong.stderr.split())

            bootstrap = stack.services.kafka_bootstrap
            await create_topic(bootstrap, stack.events_topic, partitions=4)
            events = make_events(customers=300, count=3000, seed=29) + _visits("anon-c", 6)
            await publish(bootstrap, stack.events_topic, event_records(events))
            web = await start_web_worker(stack, **env)
            truth = expected_profiles(events)

            await reach_truth(redis, stack, truth, 60,
                              "profiles on the cluster did not reach the ground truth")
            # One deployment, one slot: that is what lets each script call run on a cluster.
            slots = {await redis.cluster_keyslot(k) for k in
                     (keys.meta, keys.outbox, keys.profile("anon-c"), f"{keys.model}:stats")}
            assert len(slots) == 1

            # An identity merge: the anonymous visitor's profile moves under the user id.
            merge = [{"type": "identify", "userId": "user-c", "anonymousId": "anon-c",
                      "messageId": "id-c", "traits": {"plan": "pro"},
                      "timestamp": (START + timedelta(hours=50)).isoformat()},
                     {"type": "track", "userId": "user-c", "event": "Order Completed",
                      "properties": {"revenue": 99.5}, "messageId": "uc-o",
                      "timestamp": (START + timedelta(hours=60)).isoformat()}]
            await publish(bootstrap, stack.events_topic, event_records(merge))
            anon, user = truth["anon-c"], expected_profiles(merge)["user-c"]
            want = (anon.events_total + user.events_total, anon.orders_total + user.orders_total,
                    anon.revenue_cents + user.revenue_cents)

            async def merged() -> bool:
                got = await redis.hmget(keys.profile("user-c"), "e", "n", "r")
                return tuple(int(x or 0) for x in got) == want

            await wait_until(merged, 30, "user-c does not hold both ids' totals",
                             stack.worker_log, stack)
            assert not await redis.exists(keys.profile("anon-c"))
            assert await redis.hget(keys.aliases, "anon-c") == b"user-c"

            async def drained() -> bool:
                return await redis.hlen(keys.outbox) == 0

            await wait_until(drained, 30, "the outbox was not drained", stack.worker_log, stack)
            # Live counts: the counts hash, the HTTP endpoint and the profiles themselves agree.
            counts = {k.decode(): int(v) for k, v in
                      (await redis.hgetall(keys.cluster_counts)).items()}
            segmented = [k async for k in redis.scan_iter(match=keys.profile_pattern, count=1000)
                         if await redis.hget(k, "s")]
            assert counts and sum(counts.values()) == len(segmented)
            status, body, _ = await web.get("/segments")
            assert status == 200
            served = orjson.loads(body)
            assert {s["id"]: s["customers"] for s in served["segments"] if s["customers"]} == counts
            assert served["customers_total"] == len(truth) == int(
                await redis.hget(keys.meta, "customers") or 0)

            shown = await run_cli(stack, "profile", "user-c", "--json", timeout=60, **env)
            assert shown.returncode == 0, shown.stderr
            profile = orjson.loads(shown.stdout)
            assert profile["features"]["orders_total"] == want[1]
            assert profile["traits"] == {"plan": "pro"}
        finally:
            stack.stop_all()
            await redis.aclose()
