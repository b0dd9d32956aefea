"""The latency floor of ``streamapp bench throughput``: Kafka in and out, and nothing between.

A bare aiokafka forwarder reads the events topic in batches (as the worker does), decodes every
event, and answers each latency probe at once with a change event naming it, through the same
producer settings as the worker (``KafkaPublisher.queue_batches``). No Redis, no model, no
change to decide. Offered the worker's loads on the same broker, beside the same load generator,
its latency is what this machine's Kafka path costs before the worker does anything; the
benchmark prints both, so the worker's share can be told from the machine's. Run as its own
process, reading from the end of the topic::

    STREAMAPP_EVENTS_TOPIC=... STREAMAPP_CHANGES_TOPIC=... python -m streamapp.bench.latency_floor
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

import orjson
from aiokafka import AIOKafkaConsumer, TopicPartition

from streamapp.bench.latency import consumer_at_end
from streamapp.bench.raw_consumer import run_until_signalled
from streamapp.bench.workload import PROBE_PREFIX
from streamapp.kafka.producer import KafkaPublisher
from streamapp.kafka.topics import partition_ids
from streamapp.settings import Settings

MAX_RECORDS = 1000
READY = b'{"ready": true}'


def answers(values: Iterable[bytes | None]) -> list[tuple[bytes, bytes]]:
    """A change event (key, JSON) for each latency probe among the events ``values``.

    >>> from streamapp.bench.workload import START_MS, probe_record
    >>> _, (_, probe) = probe_record(3, START_MS)
    >>> answers([probe, b'{"type": "page", "userId": "u1", "messageId": "m1"}', b"not json"])
    [(b'probe-00000003', b'{"customer_id":"probe-00000003","cause_message_id":"probe-3"}')]
    """
    out = []
    for value in values:
        try:
            event = orjson.loads(value or b"")
        except orjson.JSONDecodeError:
            continue
        message_id = event.get("messageId") if isinstance(event, dict) else None
        if isinstance(message_id, str) and message_id.startswith(PROBE_PREFIX):
            customer = str(event.get("userId"))
            out.append((customer.encode(), orjson.dumps(
                {"customer_id": customer, "cause_message_id": message_id})))
    return out


async def forward(settings: Settings, stop: asyncio.Event) -> None:
    """Answer probes from the end of the events topic on, until ``stop`` is set."""
    consumer = await consumer_at_end(settings.kafka_bootstrap, settings.events_topic)
    publisher = KafkaPublisher(settings.kafka_bootstrap)
    await publisher.start()
    try:
        # Probes sent before this point would be skipped: the benchmark waits for this record.
        await (await publisher.queue_batches(settings.changes_topic, [(None, READY)]))
        while not stop.is_set():
            batches = await consumer.getmany(timeout_ms=200, max_records=MAX_RECORDS)
            found = answers(m.value for messages in batches.values() for m in messages)
            if found:
                await publisher.queue_batches(settings.changes_topic, found)
    finally:
        await consumer.stop()
        await publisher.stop()


async def wait_until_ready(bootstrap: str, changes_topic: str, timeout: float) -> bool:
    """Whether the forwarder reading into ``changes_topic`` said, within ``timeout`` seconds,
    that it reads from the end of the events topic on."""
    partitions = [TopicPartition(changes_topic, p)
                  for p in await partition_ids(bootstrap, changes_topic)]
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        async with asyncio.timeout(timeout):
            while True:
                batches = await consumer.getmany(timeout_ms=200)
                if any(m.value == READY for messages in batches.values() for m in messages):
                    return True
    except TimeoutError:
        return False
    finally:
        await consumer.stop()


def main() -> None:
    """Run the forwarder until terminated."""
    asyncio.run(run_until_signalled(forward))


if __name__ == "__main__":
    main()
