"""The Faust app: the batch consumer, the timers and the web views.

Wiring only: every decision is made in ``streamapp.pipeline`` and ``streamapp.core``.
"""

from __future__ import annotations

import asyncio
import gc
import logging
from typing import Any

import faust
from faust.sensors import Monitor

from streamapp.kafka.producer import KafkaPublisher
from streamapp.security import faust_credentials
from streamapp.settings import Settings
from streamapp.worker.consumer import CONNECT_SECONDS, BatchConsumer
from streamapp.worker.dashboard import SNAPSHOT_SECONDS
from streamapp.worker.metrics import WorkerMetrics
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


def stream_options(settings: Settings) -> dict[str, Any]:
    """Faust's consuming options, shared by the benchmark's Faust agents (no-op and naive).

    >>> stream_options(Settings(_env_file=None))["broker_commit_interval"]
    1.0
    """
    return {"broker_commit_interval": 1.0}


class QuietMonitor(Monitor):
    """Faust's monitor without its per-message bookkeeping.

    Faust's default monitor records every message and stream event (counts, times, a deque per
    topic) for its own statistics pages, which streamapp does not serve (its metrics are
    ``WorkerMetrics``); skipping that raised the no-op agent's rate by about 8 %.
    """

    def on_message_in(self, *args: Any, **kwargs: Any) -> None:
        return None

    def on_stream_event_in(self, *args: Any, **kwargs: Any) -> None:
        return None

    def on_stream_event_out(self, *args: Any, **kwargs: Any) -> None:
        return None

    def on_message_out(self, *args: Any, **kwargs: Any) -> None:
        return None


def faust_app(settings: Settings, **options: Any) -> tuple[faust.App, Any]:
    """A Faust app on the settings' Kafka and its input topic (raw bytes); the worker and the
    benchmark's baselines share it, so they run with the same Faust settings."""
    datadir = settings.cache_dir.expanduser() / "faust" / f"{settings.app_id}-data"
    datadir.parent.mkdir(parents=True, exist_ok=True)  # Faust makes only the last level
    app = faust.App(
        settings.app_id,
        broker=broker_url(settings.kafka_bootstrap),
        store="memory://",
        # Faust makes a data directory even for memory tables; the working directory is the
        # user's, not ours.
        datadir=str(datadir),
        autodiscover=False,
        topic_partitions=settings.topic_partitions,
        topic_replication_factor=1,
        topic_disable_leader=True,
        consumer_auto_offset_reset="earliest",
        broker_credentials=faust_credentials(settings),
        Monitor=QuietMonitor,
        **stream_options(settings),
        **options,
    )
    events = app.topic(settings.events_topic, key_type=bytes, value_type=bytes,
                       key_serializer="raw", value_serializer="raw")
    return app, events


def run_faust(app: faust.App, loglevel: str = "warning") -> None:
    """Run ``app`` in this process until it is stopped, as ``faust worker`` would."""
    worker = faust.Worker(app, loglevel=loglevel, quiet=True)
    # Faust's terminal spinner lowers the root logger to DEBUG so that every record makes it
    # spin: each debug call of aiokafka and Faust then builds a record, which cost a tenth of the
    # worker's time. Without it the root logger keeps ``loglevel``.
    worker.spinner = None
    worker.execute_from_commandline()


def create_app(settings: Settings) -> faust.App:
    """A Faust app wired to ``settings``; run it with ``run_faust`` or ``streamapp worker``."""
    app, _ = faust_app(
        settings,
        web_enabled=True,
        web_bind=settings.web_host,
        web_port=settings.web_port,
        web_host=settings.web_host,
        # Faust's own /router and /table pages would bypass the API token; streamapp has no tables.
        web_router_enabled=False,
        web_tables_enabled=False,
    )
    # Faust's web server, timers and lifecycle, without its consumer or producer: the input is
    # read in whole batches by ``BatchConsumer`` (why: streamapp/worker/consumer.py), and the
    # changes go out through ``KafkaPublisher`` below.
    app.producer_only = True
    app.boot_strategy = app.BootStrategy(app, enable_kafka_producer=False)
    ready = asyncio.Event()
    holder: dict[str, Runtime] = {}
    metrics = WorkerMetrics()

    # Change events and DLQ records go out through a producer of streamapp's own, in one built
    # batch per partition (``queue_batches``); Faust's producer sends record by record.
    kafka = KafkaPublisher.from_settings(settings, connect_timeout=CONNECT_SECONDS)

    async def runtime() -> Runtime:
        if "runtime" not in holder:
            await kafka.start()
            holder["runtime"] = await Runtime.start(settings, kafka.queue_batches, metrics)
            # What exists now (Faust, numpy, the model, the connections) lives as long as the
            # process; without this, each full collection walked it all and stopped the worker
            # for 75-150 ms, a few times a minute: the worst of the latency's tail.
            gc.collect()
            gc.freeze()
            ready.set()
        return holder["runtime"]

    batches = BatchConsumer(settings, runtime, closing=kafka.stop, loop=app.loop,
                            beacon=app.beacon)

    @app.task  # type: ignore[untyped-decorator]  # faust's is untyped
    async def consume() -> None:
        # Started with the app's timers, stopped (and its offsets committed) with the app.
        await app.add_runtime_dependency(batches)

    @app.timer(OUTBOX_DRAIN_SECONDS)  # type: ignore[untyped-decorator]  # faust's is untyped
    async def drain_outbox() -> None:
        if ready.is_set():
            await holder["runtime"].publisher.drain_outbox()

    @app.timer(settings.due_interval)  # type: ignore[untyped-decorator]  # faust's is untyped
    async def move_due_customers() -> None:
        # Time-driven audience changes: customers cross "60 days silent" as the stream's time
        # passes, not at their next event.
        if ready.is_set():
            await holder["runtime"].process_due()

    @app.timer(SNAPSHOT_SECONDS)  # type: ignore[untyped-decorator]  # faust's is untyped
    async def sample_metrics() -> None:
        # Lag, Redis round trip, model version and the dashboard's history are sampled, not
        # counted per batch; a failed sample is skipped, the next one comes soon.
        if not ready.is_set():
            return
        rt = holder["runtime"]
        try:
            await metrics.sample_lag(batches.consumer)
            await metrics.sample_redis(rt.redis, rt.profiles.customers_total)
            metrics.model_version.set(rt.pipeline.segmenter.version)
            if rt.feed is not None:
                await rt.feed.snapshot(await rt.profiles.counts())
        except Exception as exc:
            log.warning("sampling metrics failed: %s", exc)

    register_views(app, settings, lambda: holder.get("runtime"), metrics,
                   assignment=batches.assignment)
    return app
