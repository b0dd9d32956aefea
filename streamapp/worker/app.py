"""The Faust app: one agent that takes batches of input events, a timer, and the web views.

Wiring only: every decision is made in ``streamapp.pipeline`` and ``streamapp.core``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from typing import Any

import faust

from streamapp.pipeline.decode import KafkaRecord
from streamapp.settings import Settings
from streamapp.worker.runtime import Runtime
from streamapp.worker.views import register_views

log = logging.getLogger("streamapp.worker")
OUTBOX_DRAIN_SECONDS = 10.0


def broker_url(bootstrap: str) -> str:
    """Faust's broker URL for a Kafka bootstrap list.

    >>> broker_url("h1:9092,h2:9092")
    'kafka://h1:9092;h2:9092'
    """
    return "kafka://" + ";".join(h.strip() for h in bootstrap.split(",") if h.strip())


def create_app(settings: Settings) -> faust.App:
    """A Faust app wired to ``settings``; run it with ``faust.Worker`` or ``streamapp worker``."""
    app = faust.App(
        settings.app_id,
        broker=broker_url(settings.kafka_bootstrap),
        store="memory://",
        autodiscover=False,
        topic_partitions=settings.topic_partitions,
        topic_replication_factor=1,
        topic_disable_leader=True,
        consumer_auto_offset_reset="earliest",
        producer_acks=-1,
        broker_commit_interval=1.0,
        web_enabled=True,
        web_bind=settings.web_host,
        web_port=settings.web_port,
        web_host=settings.web_host,
    )
    events = app.topic(settings.events_topic, key_type=bytes, value_type=bytes,
                       key_serializer="raw", value_serializer="raw")
    ready = asyncio.Event()
    holder: dict[str, Runtime] = {}

    async def send(topic: str, key: bytes | None, value: bytes) -> Awaitable[Any]:
        fut: Awaitable[Any] = await app.producer.send(topic, key, value, None, None, None)
        return fut

    async def runtime() -> Runtime:
        if "runtime" not in holder:
            holder["runtime"] = await Runtime.start(settings, send)
            ready.set()
        return holder["runtime"]

    @app.agent(events)
    async def segment(stream: Any) -> None:
        rt = await runtime()
        async for batch in stream.take_events(settings.batch_size, within=settings.batch_window):
            # take_events acks a batch even when processing fails or the worker stops; holding
            # one more reference on each message keeps such offsets from being committed.
            for event in batch:
                event.message.incref()
            await rt.handle([_record(event.message) for event in batch])
            for event in batch:
                event.message.decref()

    @app.timer(OUTBOX_DRAIN_SECONDS)  # type: ignore[untyped-decorator]  # faust's is untyped
    async def drain_outbox() -> None:
        if ready.is_set():
            await holder["runtime"].publisher.drain_outbox()

    register_views(app, settings, lambda: holder.get("runtime"))
    return app


def _record(message: Any) -> KafkaRecord:
    return KafkaRecord(message.key, message.value, message.topic, message.partition,
                       message.offset, int((message.timestamp or 0) * 1000))
