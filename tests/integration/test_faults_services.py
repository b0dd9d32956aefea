"""Faults of the services around the worker: Redis down for 20 s and restarted from its append-only
file, the Kafka broker restarted, one of two workers killed. Slow: run with ``-m slow``.
"""

from __future__ import annotations

import asyncio
import signal
import time
import urllib.error
import urllib.request
from pathlib import Path

import psutil
import pytest
from redis.asyncio import Redis

from streamapp.dev.services import ensure_services, stop_services
from streamapp.settings import Settings
from tests.integration.conftest import Stack, wait_until
from tests.integration.faults import (
    committed_offsets,
    free_port,
    own_redis,
    publish_steadily,
    reach_truth,
)
from tests.integration.kafka_helpers import create_topic, event_records, publish
from tests.integration.truth import expected_profiles, make_events

pytestmark = [pytest.mark.integration, pytest.mark.slow]
OUTAGE_SECONDS = 20


def _readyz(port: int) -> int:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=5) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)
    except OSError:
        return 0


async def test_redis_down_20_s_then_back_from_its_aof(stack: Stack, tmp_path: Path) -> None:
    bootstrap = stack.services.kafka_bootstrap
    await create_topic(bootstrap, stack.events_topic, partitions=4)
    events = make_events(customers=400, count=15_000, seed=41)
    truth = expected_profiles(events)
    with own_redis(tmp_path) as server:
        redis = Redis.from_url(server.url)
        web_port = free_port()
        worker = stack.start_worker(STREAMAPP_REDIS_URL=server.url,
                                    STREAMAPP_WEB_PORT=str(web_port))
        producer = asyncio.create_task(publish_steadily(
            bootstrap, stack.events_topic, event_records(events), seconds=30))
        await asyncio.sleep(8)
        customers_before = int(await redis.hget(stack.keys.meta, "customers") or 0)
        model_before = await redis.get(stack.keys.model)
        await redis.aclose()
        server.stop()  # SIGTERM; the AOF is fsynced on every write (appendfsync always)
        await asyncio.sleep(3)
        committed_early = await committed_offsets(bootstrap, stack.name, stack.events_topic)
        statuses = []
        for _ in range(OUTAGE_SECONDS - 5):
            statuses.append(await asyncio.to_thread(_readyz, web_port))
            await asyncio.sleep(1)
        committed_late = await committed_offsets(bootstrap, stack.name, stack.events_topic)
        assert worker.poll() is None, "the worker died while Redis was down"
        assert 503 in statuses, f"/readyz never reported not-ready: {statuses}"
        # Nothing could be applied, so no offset may move on (DESIGN.md, invariant 1).
        assert committed_late == committed_early
        server.start()
        redis = Redis.from_url(server.url)
        assert int(await redis.hget(stack.keys.meta, "customers") or 0) >= customers_before
        assert model_before is None or await redis.get(stack.keys.model) is not None
        await producer

        result = await reach_truth(redis, stack, truth, 180,
                                   "profiles did not catch up exactly after the outage")
        assert worker.poll() is None
        assert await asyncio.to_thread(_readyz, web_port) == 200
        print(f"\nredis outage: events {len(events)}, outage {OUTAGE_SECONDS} s, "
              f"lost {result.lost}, double counted {result.double_counted}, crashes 0, "
              f"readyz 503 seen {statuses.count(503)} times, offsets frozen during outage")
        await redis.aclose()


async def test_kafka_broker_restart(stack: Stack, redis: Redis, tmp_path: Path) -> None:
    port = free_port()
    while port + 1 > 65535 or _taken(port + 1):  # the dev broker's controller uses port + 1
        port = free_port()
    cache = tmp_path / "cache"
    cache.mkdir()
    # Share the jars of the default cache (fetched once, about 20 s, when missing).
    shared = Settings(_env_file=None).cache_dir.expanduser() / "kafka-3.9.1"
    shared.mkdir(parents=True, exist_ok=True)
    (cache / "kafka-3.9.1").symlink_to(shared, target_is_directory=True)
    settings = Settings(_env_file=None, kafka_bootstrap=f"127.0.0.1:{port}",
                        redis_url=stack.services.redis_url, cache_dir=cache)
    bootstrap = settings.kafka_bootstrap
    ensure_services(settings)
    try:
        await create_topic(bootstrap, stack.events_topic, partitions=4)
        events = make_events(customers=400, count=12_000, seed=42)
        records = event_records(events)
        worker = stack.start_worker(STREAMAPP_KAFKA_BOOTSTRAP=bootstrap)
        await publish(bootstrap, stack.events_topic, records[: len(records) // 2])

        async def applying() -> bool:
            return int(await redis.hget(stack.keys.meta, "customers") or 0) > 0

        # Mid-stream for certain: the broker goes away once the worker is applying events.
        await wait_until(applying, 60, "the worker applied nothing", stack.worker_log, stack)
        started = time.monotonic()
        stop_services(settings)
        await asyncio.sleep(2)
        # The failure seen in the wild: Faust stops its process while the broker is away. Its
        # supervisor must keep starting it again until the broker is back.
        for child in psutil.Process(worker.pid).children():
            child.kill()
        await asyncio.sleep(OUTAGE_SECONDS - 2)
        ensure_services(settings)
        restart = time.monotonic() - started
        await publish(bootstrap, stack.events_topic, records[len(records) // 2:])
        truth = expected_profiles(events)

        result = await reach_truth(redis, stack, truth, 240,
                                   "profiles did not reach the truth after the restart")
        assert worker.poll() is None, "the worker died with the broker"
        restarts = sum(log.read_text(errors="replace").count("starting it again")
                       for log in stack.logs.glob("worker-*.log"))
        assert restarts >= 2, "the supervisor did not start the killed worker again"
        print(f"\nkafka restart: events {len(events)}, broker down {restart:.0f} s, "
              f"lost {result.lost}, double counted {result.double_counted}, "
              f"worker process restarts {restarts}, worker exits 0")
    finally:
        stack.stop_all()
        stop_services(settings)


def _taken(port: int) -> bool:
    import socket

    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


async def test_two_workers_one_killed(stack: Stack, redis: Redis) -> None:
    bootstrap = stack.services.kafka_bootstrap
    await create_topic(bootstrap, stack.events_topic, partitions=4)
    events = make_events(customers=400, count=15_000, seed=43)
    first, second = stack.start_worker(), stack.start_worker()
    producer = asyncio.create_task(publish_steadily(
        bootstrap, stack.events_topic, event_records(events), seconds=25))
    await asyncio.sleep(10)
    first.send_signal(signal.SIGKILL)
    first.wait()
    await producer
    truth = expected_profiles(events)

    # The survivor takes the dead worker's partitions once the group's session times out.
    result = await reach_truth(redis, stack, truth, 240,
                               "profiles did not reach the truth after the rebalance")
    assert second.poll() is None
    print(f"\ntwo workers, one killed: events {len(events)}, lost {result.lost}, "
          f"double counted {result.double_counted}, crashes 0")
