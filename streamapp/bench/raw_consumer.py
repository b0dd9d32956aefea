"""Baseline (c) of ``streamapp bench throughput``: a bare aiokafka consumer, the client's ceiling.

It reads the topic in the consumer group ``settings.app_id`` with ``getmany`` and commits often
(every ``COMMIT_SECONDS``), so the benchmark can time it from the group's committed offsets exactly
as it times the others. Run as its own process::

    STREAMAPP_EVENTS_TOPIC=... STREAMAPP_APP_ID=... python -m streamapp.bench.raw_consumer
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import time
from collections.abc import Awaitable, Callable

from aiokafka import AIOKafkaConsumer

from streamapp.settings import Settings

# This consumer reads ~30 times faster than the others; a 1 s commit would be a large share of
# a run, so it commits ten times as often (a commit is one cheap request).
COMMIT_SECONDS = 0.1


async def consume(settings: Settings, stop: asyncio.Event) -> int:
    """Read until ``stop`` is set; return how many records were read."""
    consumer = AIOKafkaConsumer(
        settings.events_topic, bootstrap_servers=settings.kafka_bootstrap,
        group_id=settings.app_id, enable_auto_commit=False, auto_offset_reset="earliest",
        max_partition_fetch_bytes=4 * 1024 * 1024,
    )
    await consumer.start()
    read = 0
    try:
        last_commit = time.monotonic()
        while not stop.is_set():
            batches = await consumer.getmany(timeout_ms=100, max_records=10_000)
            read += sum(len(messages) for messages in batches.values())
            if batches and time.monotonic() - last_commit >= COMMIT_SECONDS:
                await consumer.commit()
                last_commit = time.monotonic()
            elif not batches:
                await consumer.commit()
    finally:
        with contextlib.suppress(Exception):
            await consumer.commit()
        await consumer.stop()
    return read


async def run_until_signalled(body: Callable[[Settings, asyncio.Event], Awaitable[object]],
                              ) -> None:
    """Run ``body`` with the environment's settings until SIGTERM or SIGINT sets its event: how
    the benchmark stops the processes it started."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await body(Settings(), stop)


def main() -> None:
    """Run the raw consumer until terminated."""
    asyncio.run(run_until_signalled(consume))


if __name__ == "__main__":
    main()
