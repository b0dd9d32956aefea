"""One batch, end to end: decode, apply features, assign segments, record changes.

Publishing is left to the caller, which drains what ``process`` recorded in the outbox; that split
is what makes a crash between recording and publishing lose nothing (DESIGN.md, invariant 2).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from streamapp.core.changes import segment_change
from streamapp.core.clock import Watermark
from streamapp.core.facts import EventFact
from streamapp.core.features import derive, feature_matrix
from streamapp.core.segmenter import Segmenter
from streamapp.pipeline.decode import KafkaRecord, decode_batch
from streamapp.pipeline.retry import Health, retry_transient
from streamapp.store.model_state import ModelStates
from streamapp.store.profiles import Profiles, SegmentRecord


@dataclass
class BatchOutcome:
    """What one batch produced: change events to publish and DLQ values."""

    changes: dict[str, bytes] = field(default_factory=dict)  # event_id -> JSON
    rejects: list[tuple[bytes | None, dict[str, Any]]] = field(default_factory=list)
    facts: int = 0
    applied: int = 0


def group_by_customer(facts: Sequence[EventFact]) -> dict[str, list[EventFact]]:
    """Facts per customer in offset order (one customer's events share a partition).

    >>> from streamapp.core.facts import EventFact
    >>> g = group_by_customer([EventFact("b", 0, 2, "m2", 1), EventFact("a", 0, 1, "m1", 1),
    ...                        EventFact("b", 0, 0, "m0", 1)])
    >>> {k: [f.offset for f in v] for k, v in g.items()}
    {'b': [0, 2], 'a': [1]}
    """
    groups: dict[str, list[EventFact]] = {}
    for fact in facts:
        groups.setdefault(fact.customer_id, []).append(fact)
    for group in groups.values():
        group.sort(key=lambda f: (f.partition, f.offset))
    return groups


class Pipeline:
    """Turns batches of Kafka records into profile updates and recorded change events."""

    def __init__(
        self,
        profiles: Profiles,
        models: ModelStates,
        segmenter: Segmenter,
        watermark: Watermark,
        max_event_bytes: int,
        health: Health | None = None,
        wall_ms: Watermark | None = None,
    ) -> None:
        self.profiles = profiles
        self.models = models
        self.segmenter = segmenter
        self.watermark = watermark
        self.max_event_bytes = max_event_bytes
        self.health = health or Health()
        self._wall = wall_ms or Watermark(mode="wall")

    async def process(self, records: Sequence[KafkaRecord]) -> BatchOutcome:
        """Process one batch; safe to call again with the same records (idempotent).

        Each Redis step is retried on its own through an outage, so a step that succeeded is not
        repeated: the segments of a batch whose features were applied are still assigned.
        """
        facts, rejects = decode_batch(records, self.max_event_bytes, self.watermark.clamp)
        outcome = BatchOutcome(rejects=rejects, facts=len(facts))
        groups = group_by_customer(facts)
        applied = await retry_transient(
            lambda: self.profiles.apply(groups), "applying events to Redis", self.health)
        self.watermark.observe(f.time_ms for f in facts)
        # Customers whose events had all been applied before (a redelivery) learn nothing new and
        # keep their segment: replaying a topic must change no profile.
        fresh = [a for a in applied if a.cause is not None]
        outcome.applied = len(fresh)
        if not fresh:
            return outcome
        now_ms = self.watermark.now_ms()
        matrix = feature_matrix([a.counters for a in fresh], now_ms)
        segments = self.segmenter.learn_and_assign(matrix, [a.segment for a in fresh])
        names = self.segmenter.names()
        emitted_at = self._wall.now_ms()
        to_record = []
        for customer, segment in zip(fresh, segments, strict=True):
            assert customer.cause is not None
            if segment == customer.segment:
                # Recorded anyway: the step clears the customer's pending-assignment mark.
                to_record.append(SegmentRecord(customer.customer_id, customer.segment,
                                               segment or "", 0, "", b""))
                continue
            change = segment_change(
                customer.customer_id, segment, names.get(segment or ""),
                customer.segment, names.get(customer.segment or ""),
                self.segmenter.version, derive(customer.counters, now_ms),
                event_time_ms=customer.cause.time_ms, emitted_at_ms=emitted_at,
                cause_message_id=customer.cause.message_id,
            )
            to_record.append(SegmentRecord(
                customer.customer_id, customer.segment, segment or "", customer.cause.time_ms,
                change["event_id"], orjson.dumps(change),
            ))
        recorded = await retry_transient(
            lambda: self.profiles.record(to_record), "recording segments in Redis", self.health)
        for record in recorded:
            outcome.changes[record.event_id] = record.change_json
        await retry_transient(lambda: self.models.save(self.segmenter.model),
                              "merging into the shared model", self.health)
        return outcome
