"""Everything a worker process holds: the Redis client, the stores, the pipeline, the publisher."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from redis.asyncio import Redis

from streamapp.core.clock import Watermark
from streamapp.core.features import FEATURE_NAMES
from streamapp.core.model_factory import make_model
from streamapp.core.segmenter import Segmenter
from streamapp.pipeline.decode import KafkaRecord
from streamapp.pipeline.process import Pipeline
from streamapp.pipeline.retry import Health, retry_transient
from streamapp.settings import Settings
from streamapp.store.keys import Keys
from streamapp.store.model_state import ModelStore
from streamapp.store.profiles import ProfileStore
from streamapp.worker.publisher import Publisher, SendFn

log = logging.getLogger("streamapp.worker")


def connect_redis(settings: Settings) -> Redis:
    """A Redis client for ``settings.redis_url`` with timeouts, so an outage errors, not hangs."""
    return Redis.from_url(
        settings.redis_dsn, socket_timeout=10, socket_connect_timeout=5,
        health_check_interval=15,
    )


@dataclass
class Runtime:
    """The worker's resources, built once per process."""

    settings: Settings
    redis: Redis
    profiles: ProfileStore
    models: ModelStore
    pipeline: Pipeline
    publisher: Publisher
    health: Health

    @classmethod
    async def start(cls, settings: Settings, send: SendFn) -> Runtime:
        """Connect, restore the model and the watermark, and drain the outbox of a previous run."""
        redis = connect_redis(settings)
        keys = Keys(settings.redis_prefix)
        health = Health()
        profiles = ProfileStore(redis, keys, settings.dedupe_window)
        models = ModelStore(redis, keys)
        state = await retry_transient(models.load, "loading the model", health)
        model = make_model(settings.model_kind, state, n_clusters=settings.n_segments,
                           halflife=settings.model_halflife, seed=settings.model_seed,
                           features=FEATURE_NAMES, shared=True)
        watermark = Watermark(mode=settings.clock)
        watermark.observe([await retry_transient(profiles.watermark_ms, "reading", health)])
        pipeline = Pipeline(profiles, models, Segmenter(model, settings.switch_margin), watermark,
                            settings.max_event_bytes, health)
        publisher = Publisher(send, profiles, settings.changes_topic, settings.dlq_topic)
        runtime = cls(settings, redis, profiles, models, pipeline, publisher, health)
        drained = await retry_transient(publisher.drain_outbox, "draining the outbox", health)
        if drained:
            log.info("published %d change events left over by a previous run", drained)
        return runtime

    async def handle(self, records: Sequence[KafkaRecord]) -> None:
        """Process one batch and publish what it produced; returns once Kafka has it all."""
        outcome = await self.pipeline.process(records)
        async with self.publisher.lock:
            await retry_transient(lambda: self.publisher.publish_rejects(outcome.rejects),
                                  "publishing to the DLQ", self.health)
            await retry_transient(lambda: self.publisher.publish_changes(outcome.changes),
                                  "publishing change events", self.health)
