"""Workers killed with SIGKILL at random moments mid-stream: every profile stays exact.

The default run (``.ci/run``) has one round of a few kills; ``-m slow`` runs the long one
(50,000 events, 6 kills). Figures: docs/RELIABILITY.md.
"""

from __future__ import annotations

import asyncio
import random
import signal
import time

import pytest
from redis.asyncio import Redis

from tests.integration.conftest import Stack, wait_until
from tests.integration.faults import change_stories_agree, publish_steadily, reach_truth
from tests.integration.kafka_helpers import create_topic, event_records
from tests.integration.truth import expected_profiles, make_events

pytestmark = pytest.mark.integration


async def kill_rounds(stack: Stack, redis: Redis, *, customers: int, count: int, kills: int,
                      publish_seconds: float, seed: int) -> str:
    """Stream ``count`` events while killing the worker ``kills`` times; return the figures."""
    bootstrap = stack.services.kafka_bootstrap
    await create_topic(bootstrap, stack.events_topic, partitions=4)
    events = make_events(customers=customers, count=count, seed=seed)
    started = time.monotonic()
    producer = asyncio.create_task(
        publish_steadily(bootstrap, stack.events_topic, event_records(events), publish_seconds))
    rng = random.Random(seed)
    worker = stack.start_worker()
    for _ in range(kills):
        # Anywhere from mid-start to mid-batch: a worker takes 3-6 s to start here.
        await asyncio.sleep(rng.uniform(2.0, 7.0))
        worker.send_signal(signal.SIGKILL)
        worker.wait()
        worker = stack.start_worker()
    await producer
    truth = expected_profiles(events)

    result = await reach_truth(redis, stack, truth, 240,
                               "profiles did not reach the ground truth after the kills")

    async def outbox_empty() -> bool:
        return await redis.hlen(stack.keys.outbox) == 0

    await wait_until(outbox_empty, 60, "the outbox was not drained", stack.worker_log, stack)
    stories = await change_stories_agree(redis, stack.name, bootstrap, stack.changes_topic)
    assert worker.poll() is None, "the last worker died on its own"
    figures = (f"events {len(events)}, customers {result.customers}, SIGKILLs {kills}, "
               f"lost {result.lost}, double counted {result.double_counted}, "
               f"wrong profiles {result.wrong_profiles}, crashes 0, change events "
               f"{stories['published']} ({stories['duplicates']} duplicates by event_id), "
               f"{time.monotonic() - started:.0f} s")
    print(f"\nkill -9 rounds: {figures}")
    assert result.exact()
    return figures


async def test_sigkill_round_keeps_profiles_exact(stack: Stack, redis: Redis) -> None:
    await kill_rounds(stack, redis, customers=500, count=12_000, kills=3, publish_seconds=15,
                      seed=31)


@pytest.mark.slow
async def test_sigkill_six_times_during_50000_events(stack: Stack, redis: Redis) -> None:
    await kill_rounds(stack, redis, customers=2_000, count=50_000, kills=6, publish_seconds=40,
                      seed=32)
