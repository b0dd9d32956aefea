"""Plain aiokafka producing and consuming for the tests: independent of streamapp's own code."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Sequence

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic


async def create_topic(bootstrap: str, name: str, partitions: int = 4) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(name, partitions, 1)])
    finally:
        await admin.close()


async def delete_topics(bootstrap: str, names: Sequence[str]) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        with contextlib.suppress(Exception):
            await admin.delete_topics(list(names))
    finally:
        await admin.close()


async def partition_ids(bootstrap: str, topic: str) -> list[int]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        described = await admin.describe_topics([topic])
    finally:
        await admin.close()
    return sorted(p["partition"] for d in described for p in d.get("partitions", []))


async def publish(bootstrap: str, topic: str, records: Iterable[tuple[bytes, bytes]]) -> int:
    """Send (key, value) records; returns how many the broker acknowledged."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=5, acks="all")
    await producer.start()
    try:
        futures = [await producer.send(topic, value, key=key) for key, value in records]
        for future in futures:
            await future
        return len(futures)
    finally:
        await producer.stop()


def event_records(events: Iterable[dict[str, object]]) -> list[tuple[bytes, bytes]]:
    """Segment events keyed by customer id (userId, else anonymousId)."""
    out = []
    for event in events:
        key = str(event.get("userId") or event.get("anonymousId"))
        out.append((key.encode(), orjson.dumps(event)))
    return out


Record = tuple[int, int, bytes | None, bytes]  # partition, offset, key, value


async def read_records(bootstrap: str, topic: str) -> list[Record]:
    """Every record now in ``topic``, from the start of each partition to its end."""
    tps = [TopicPartition(topic, p) for p in await partition_ids(bootstrap, topic)]
    if not tps:
        return []
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        consumer.assign(tps)
        # Seek first: asking for the end offsets before seeking leaves aiokafka 0.14's fetcher
        # idle in about half of the runs.
        await consumer.seek_to_beginning(*tps)
        ends = await consumer.end_offsets(tps)
        out: list[Record] = []
        remaining = {tp for tp in tps if ends[tp] > 0}
        while remaining:
            batches = await consumer.getmany(*remaining, timeout_ms=1000)
            for tp, messages in batches.items():
                out.extend((tp.partition, m.offset, m.key, m.value) for m in messages)
                if messages and messages[-1].offset + 1 >= ends[tp]:
                    remaining.discard(tp)
        return out
    finally:
        await consumer.stop()


async def read_all(bootstrap: str, topic: str) -> list[tuple[bytes | None, bytes]]:
    """Every record now in ``topic`` as (key, value)."""
    return [(key, value) for _, _, key, value in await read_records(bootstrap, topic)]
