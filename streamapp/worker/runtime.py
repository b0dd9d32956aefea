"""Everything a worker process holds: the Redis client, the stores, the pipeline, the publisher."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Coroutine, Sequence
from dataclasses import dataclass, field
from typing import Any

from streamapp.core.clock import Watermark
from streamapp.core.features import FEATURE_NAMES
from streamapp.core.model_factory import make_model
from streamapp.core.segmenter import LEARN_ROWS, Segmenter
from streamapp.pipeline.audience_file import AudienceFile
from streamapp.pipeline.audience_step import AudienceStep
from streamapp.pipeline.decode import KafkaRecord
from streamapp.pipeline.process import BatchOutcome, DecodedBatch, Pipeline
from streamapp.pipeline.retry import TRANSIENT, Health, retry_transient
from streamapp.settings import Settings
from streamapp.store.client import RedisClient, connect_redis
from streamapp.store.keys import Keys
from streamapp.store.model_state import ModelStore
from streamapp.store.profiles import ProfileStore
from streamapp.worker.dashboard import DashboardFeed
from streamapp.worker.metrics import WorkerMetrics
from streamapp.worker.publisher import Publisher, SendFn

log = logging.getLogger("streamapp.worker")
FLUSH_SECONDS = 0.5


@dataclass
class Runtime:
    """The worker's resources, built once per process."""

    settings: Settings
    redis: RedisClient
    profiles: ProfileStore
    models: ModelStore
    pipeline: Pipeline
    publisher: Publisher
    health: Health
    metrics: WorkerMetrics = field(default_factory=WorkerMetrics)
    feed: DashboardFeed | None = None
    audience_file: AudienceFile | None = None
    _flushing: asyncio.Lock = field(default_factory=asyncio.Lock, init=False, repr=False)

    @classmethod
    async def start(cls, settings: Settings, send: SendFn,
                    metrics: WorkerMetrics | None = None) -> Runtime:
        """Connect, restore the model and the watermark, and drain the outbox of a previous run."""
        redis = connect_redis(settings)
        keys = Keys(settings.redis_prefix)
        health = Health()
        profiles = ProfileStore(redis, keys, settings.dedupe_window,
                                settings.customer_id_salt.get_secret_value())
        models = ModelStore(redis, keys)
        state = await retry_transient(models.load, "loading the model", health)
        model = make_model(settings.model_kind, state, n_clusters=settings.n_segments,
                           halflife=settings.model_halflife, seed=settings.model_seed,
                           features=FEATURE_NAMES, shared=True)
        audience_file = AudienceFile(settings.audiences_file)
        audience_step = AudienceStep(audience_file.load(), profiles)
        watermark = Watermark(mode=settings.clock)
        watermark.observe([await retry_transient(profiles.watermark_ms, "reading", health)])
        segmenter = Segmenter(model, settings.switch_margin, settings.segment_names,
                              learn_rows=LEARN_ROWS)
        pipeline = Pipeline(profiles, models, segmenter, watermark,
                            settings.max_event_bytes, health, audience_step=audience_step,
                            stored_id=settings.stored_customer_id
                            if settings.hash_customer_ids else None)
        publisher = Publisher(send, profiles, settings.changes_topic, settings.dlq_topic)
        runtime = cls(settings, redis, profiles, models, pipeline, publisher, health,
                      metrics or WorkerMetrics(), DashboardFeed(redis, keys), audience_file)
        drained = await retry_transient(publisher.drain_outbox, "draining the outbox", health)
        if drained:
            log.info("published %d change events left over by a previous run", drained)
        return runtime

    async def process_due(self) -> None:
        """Re-read a changed audiences file, then move customers whose audiences time changed."""
        audiences = self.audience_file.reload_if_changed() if self.audience_file else None
        if audiences is not None:
            self.pipeline.audience_step.set_audiences(audiences)
            # Every customer is looked at again, under a cause every worker derives alike.
            marked = await retry_transient(
                lambda: self.profiles.mark_all_due(self.pipeline.watermark.now_ms()),
                "scheduling a backfill", self.health)
            log.info("audiences file changed: %d audiences, %d customers to re-evaluate",
                     len(audiences), marked)
        outcome = await self.pipeline.process_due(self.settings.due_batch)
        if outcome.changes:
            await retry_transient(
                lambda: self.publisher.publish(outcome.changes, notes=outcome.notes),
                "publishing change events", self.health)

    def prepare(self, records: Sequence[KafkaRecord]) -> DecodedBatch:
        """Decode a batch for ``begin``; touches nothing stored, so the caller may do it while
        the batch before is still being begun (waiting for Redis)."""
        return self.pipeline.decode(records)

    def prepare_more(self, batch: DecodedBatch, records: Sequence[KafkaRecord]) -> DecodedBatch:
        """``batch`` with ``records``, read after its own, decoded and added to it."""
        return batch.joined(self.prepare(records))

    async def begin(self, batch: Sequence[KafkaRecord] | DecodedBatch,
                    ) -> Coroutine[Any, Any, None]:
        """Process one batch (its records, or ``prepare``'s result) up to its recorded changes
        and queue them for Kafka; return the rest (Kafka's acknowledgement, the outbox's
        confirmation, counting) for the caller to await, which may first begin the next batch:
        that batch's work then overlaps this one's wait for Kafka.

        Everything a batch changes is in Redis, its change events in the outbox, before this
        returns; what the rest does is redone from there after a crash (DESIGN.md, invariant 2).
        Batches are begun in order and their records queued in that order, so each customer's
        change events reach Kafka in order; the rests of two batches must be awaited in order.
        """
        began = time.perf_counter()
        decoded = batch if isinstance(batch, DecodedBatch) else self.prepare(batch)
        records = decoded.records
        outcome = await self.pipeline.assign(decoded)
        changes = list(outcome.changes.values())
        queued = await retry_transient(
            lambda: self.publisher.queue(outcome.changes, outcome.rejects, outcome.notes),
            "publishing change events", self.health)

        async def finish() -> None:
            await self._delivered(outcome, queued)
            if self.feed is not None:
                self.feed.add_batch(outcome.facts, len(outcome.rejects), changes)
            self.metrics.observe_batch(records, outcome.events_by_type, outcome.rejects,
                                       outcome.notes.values(), time.perf_counter() - began)

        return finish()

    async def _delivered(self, outcome: BatchOutcome, queued: asyncio.Future[None]) -> None:
        try:
            await queued
        except TRANSIENT as exc:
            # Kafka gave up on them after its own retries: the whole batch goes again, until it
            # is in (consumers drop what they saw twice by event_id).
            log.warning("publishing a batch failed (%r); sending it again", exc)
            await retry_transient(
                lambda: self.publisher.publish(outcome.changes, outcome.rejects, outcome.notes),
                "publishing change events", self.health)

    async def flush(self) -> None:
        """Learn the rows held back, merge what the model learned into the shared one, and add
        the dashboard's counts.

        Every ``FLUSH_SECONDS`` and at a clean stop, not per batch: per batch, these two Redis
        round trips set the pace of batches at half load. A crash loses at most that long's
        learning (its events stay applied) and that long's dashboard counts.
        """
        async with self._flushing:
            if self.feed is not None:
                await self.feed.flush()
            self.pipeline.segmenter.learn_held()
            await self.pipeline.save_model()
