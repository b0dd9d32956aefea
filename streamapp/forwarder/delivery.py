"""Consume ``segment-changes`` and POST each change to a webhook, committing only what arrived.

At least once: a partition's offsets are committed after the receiver answered 2xx for every
change before them, so a forwarder stopped at any moment resends at most what was unconfirmed,
and the receiver drops repeats by ``event_id`` (the README's consumer guide). Changes of one
partition are sent one at a time, in order, so one customer's changes arrive in order; partitions
go in parallel.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from typing import Any

import aiohttp
import orjson
from aiokafka import AIOKafkaConsumer, TopicPartition

from streamapp.forwarder.signing import (
    EVENT_ID_HEADER,
    SIGNATURE_HEADER,
    backoff,
    permanent_failure,
    signature,
    wanted,
)
from streamapp.kafka.connect import start_client
from streamapp.security import kafka_client_kwargs
from streamapp.settings import Settings


class PermanentFailure(RuntimeError):
    """The receiver refused a change in a way retrying cannot fix (a 4xx answer)."""


@dataclass
class ForwardStats:
    """What happened so far; shown live by the command."""

    delivered: int = 0
    filtered: int = 0
    retries: int = 0
    last_problem: str = ""


@dataclass
class Webhook:
    """One receiver: where, how to sign, how long to wait and to back off."""

    url: str
    secret: str | None
    timeout: float
    max_backoff: float

    async def deliver(self, session: aiohttp.ClientSession, body: bytes, event_id: str,
                      on_retry: Callable[[str], None]) -> None:
        """POST until a 2xx answer; retry with backoff on anything but a permanent refusal."""
        headers = {"Content-Type": "application/json", EVENT_ID_HEADER: event_id}
        if self.secret is not None:
            headers[SIGNATURE_HEADER] = signature(body, self.secret)
        attempt = 0
        while True:
            try:
                async with session.post(self.url, data=body, headers=headers,
                                        timeout=aiohttp.ClientTimeout(total=self.timeout)) as r:
                    if 200 <= r.status < 300:
                        return
                    detail = (await r.text())[:200]
                    if permanent_failure(r.status):
                        raise PermanentFailure(
                            f"{self.url} refused change {event_id} with HTTP {r.status}: {detail}")
                    problem = f"HTTP {r.status} {detail}".strip()
            except (aiohttp.ClientError, TimeoutError) as error:
                problem = str(error) or type(error).__name__
            attempt += 1
            on_retry(problem)
            await asyncio.sleep(backoff(attempt, self.max_backoff))


async def start_consumer(settings: Settings, group: str, start: str,
                         connect_timeout: float = 10.0) -> AIOKafkaConsumer:
    """A started consumer of the changes topic in ``group``, committing by hand."""
    security = kafka_client_kwargs(settings)
    consumer = AIOKafkaConsumer(
        settings.changes_topic, bootstrap_servers=settings.kafka_bootstrap, group_id=group,
        enable_auto_commit=False, auto_offset_reset=start, **security)
    await start_client(consumer, settings.kafka_bootstrap, security, connect_timeout)
    return consumer


async def _forward_partition(consumer: AIOKafkaConsumer, session: aiohttp.ClientSession,
                             hook: Webhook, tp: TopicPartition, messages: Sequence[Any],
                             kinds: Collection[str], segments: Collection[str],
                             stats: ForwardStats) -> None:
    def on_retry(problem: str) -> None:
        stats.retries += 1
        stats.last_problem = problem

    done: int | None = None
    try:
        for message in messages:
            change = orjson.loads(message.value)
            if wanted(change, kinds, segments):
                await hook.deliver(session, message.value, str(change.get("event_id")), on_retry)
                stats.delivered += 1
            else:
                stats.filtered += 1
            done = message.offset
    finally:
        # Whatever happens next, what the receiver confirmed is not sent again.
        if done is not None:
            await consumer.commit({tp: done + 1})


async def forward_changes(settings: Settings, hook: Webhook, *, group: str, start: str,
                          kinds: Collection[str] = (), segments: Collection[str] = (),
                          stats: ForwardStats | None = None,
                          stop: asyncio.Event | None = None) -> ForwardStats:
    """Forward changes until ``stop`` is set (or forever); raises ``PermanentFailure``."""
    stats = stats or ForwardStats()
    stop = stop or asyncio.Event()
    consumer = await start_consumer(settings, group, start)
    try:
        async with aiohttp.ClientSession() as session:
            while not stop.is_set():
                batches = await consumer.getmany(timeout_ms=500, max_records=500)
                await asyncio.gather(*(
                    _forward_partition(consumer, session, hook, tp, messages, kinds, segments,
                                       stats)
                    for tp, messages in batches.items()))
    finally:
        await consumer.stop()
    return stats
