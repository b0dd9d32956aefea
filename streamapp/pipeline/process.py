"""One batch, end to end: decode, apply features, assign segments, record changes.

Publishing is left to the caller, which drains what ``process`` recorded in the outbox; that split
is what makes a crash between recording and publishing lose nothing (DESIGN.md, invariant 2).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any

import orjson

from streamapp.core.changes import ChangeNote, segment_change
from streamapp.core.clock import Watermark
from streamapp.core.facts import EventFact
from streamapp.core.features import derive, feature_matrix
from streamapp.core.segmenter import Segmenter
from streamapp.pipeline.audience_step import AudienceStep, CustomerState
from streamapp.pipeline.decode import ForgetRequest, KafkaRecord, decode_batch
from streamapp.pipeline.retry import Health, retry_transient
from streamapp.store.model_state import ModelStates
from streamapp.store.profiles import AudienceRecord, Profiles, SegmentRecord


@dataclass
class BatchOutcome:
    """What one batch produced: change events to publish and DLQ values."""

    changes: dict[str, bytes] = field(default_factory=dict)  # event_id -> JSON
    notes: dict[str, ChangeNote] = field(default_factory=dict)  # event_id -> key, kind, time
    rejects: list[tuple[bytes | None, dict[str, Any]]] = field(default_factory=list)
    facts: int = 0
    applied: int = 0
    events_by_type: dict[str, int] = field(default_factory=dict)

    def add_recorded(self, recorded: Sequence[tuple[str, bytes]],
                     notes: dict[str, ChangeNote]) -> None:
        """Keep the change events Redis recorded (event_id, JSON), with their notes."""
        self.changes.update(recorded)
        self.notes.update((event_id, notes[event_id]) for event_id, _ in recorded)


def note_audience_changes(notes: dict[str, ChangeNote], customer_id: str,
                          audience: AudienceRecord, event_time_ms: int) -> None:
    """Note the audience change events ``audience`` carries.

    >>> notes: dict[str, ChangeNote] = {}
    >>> moves = (("e1", b"{}", "vip", 1),)
    >>> note_audience_changes(notes, "u1", AudienceRecord((), ("vip",), "", None, moves), 5)
    >>> notes["e1"]
    ChangeNote(customer_id='u1', kind='audience', event_time_ms=5)
    """
    for event_id, *_ in audience.changes:
        notes[event_id] = ChangeNote(customer_id, "audience", event_time_ms)


@dataclass
class DecodedBatch:
    """A batch's records as ``Pipeline.decode`` left them: nothing of it is stored yet."""

    records: Sequence[KafkaRecord]
    facts: list[EventFact]
    rejects: list[tuple[bytes | None, dict[str, Any]]]
    forgets: list[ForgetRequest]
    events_by_type: dict[str, int]
    groups: dict[str, list[EventFact]]

    def joined(self, later: DecodedBatch) -> DecodedBatch:
        """This batch with ``later`` (records read after this batch's) added to it, as if
        decoded together.

        >>> from streamapp.core.facts import EventFact
        >>> first = DecodedBatch([], [EventFact("a", 0, 1, "m1", 1)], [], [], {"page": 1}, {})
        >>> later = DecodedBatch([], [EventFact("a", 0, 2, "m2", 1)], [], [], {"page": 1}, {})
        >>> both = first.joined(later)
        >>> both.events_by_type, [f.offset for f in both.groups["a"]]
        ({'page': 2}, [1, 2])
        """
        facts = self.facts + later.facts
        by_type = Counter(self.events_by_type)
        by_type.update(later.events_by_type)
        return DecodedBatch([*self.records, *later.records], facts, self.rejects + later.rejects,
                            self.forgets + later.forgets, dict(by_type), group_by_customer(facts))


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
        if len(group) > 1:
            group.sort(key=_position)
    return groups


def _position(fact: EventFact) -> tuple[int, int]:
    return fact.partition, fact.offset


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
        audience_step: AudienceStep | None = None,
        stored_id: Callable[[str], str] | None = None,
    ) -> None:
        self.profiles = profiles
        self.models = models
        self.segmenter = segmenter
        self.watermark = watermark
        self.max_event_bytes = max_event_bytes
        self.health = health or Health()
        self._wall = wall_ms or Watermark(mode="wall")
        self.audience_step = audience_step or AudienceStep([], profiles)
        # With STREAMAPP_HASH_CUSTOMER_IDS, ids are hashed before anything is stored or published.
        self.stored_id = stored_id

    async def process(self, records: Sequence[KafkaRecord]) -> BatchOutcome:
        """Process one batch and merge what the model learned; safe to call again with the same
        records (idempotent)."""
        outcome = await self.assign(records)
        await self.save_model()
        return outcome

    async def save_model(self) -> None:
        """Merge what the model learned from the batches assigned so far into the shared one."""
        await retry_transient(lambda: self.models.save(self.segmenter.model),
                              "merging into the shared model", self.health)

    def decode(self, records: Sequence[KafkaRecord]) -> DecodedBatch:
        """Decode a batch, touching nothing stored: the worker decodes the next batch while
        the one before is in Redis."""
        forgets: list[ForgetRequest] = []
        facts, rejects = decode_batch(records, self.max_event_bytes, self.watermark.clamp,
                                      forgets)
        events_by_type = dict(Counter(f.event_type for f in facts))
        if self.stored_id is not None:
            facts, forgets = self._hide_ids(facts, forgets)
        return DecodedBatch(records, facts, rejects, forgets, events_by_type,
                            group_by_customer(facts))

    async def assign(self, batch: Sequence[KafkaRecord] | DecodedBatch) -> BatchOutcome:
        """Process one batch (its records, or what ``decode`` made of them) up to its recorded
        changes, leaving the model's merge to ``save_model``, which the worker runs while the
        changes are being published.

        Each Redis step is retried on its own through an outage, so a step that succeeded is not
        repeated: the segments of a batch whose features were applied are still assigned. A crash
        before the merge loses that batch's learning, not its events: the redelivered events are
        already applied and teach the model nothing.
        """
        decoded = batch if isinstance(batch, DecodedBatch) else self.decode(batch)
        facts, groups = decoded.facts, decoded.groups
        outcome = BatchOutcome(rejects=decoded.rejects, facts=len(facts),
                               events_by_type=decoded.events_by_type)
        # Forget first: the customer's events in this batch, before or after the request, are
        # then dropped by the suppression list. Forgetting again on a redelivery changes nothing.
        # The `exited` event stays in the outbox for the periodic drain rather than joining this
        # batch's changes, which the dashboard's feed keeps a copy of: it would hold the id again.
        for request in decoded.forgets:
            await retry_transient(partial(self.profiles.forget, *request),
                                  "forgetting a customer in Redis", self.health)
        traits = self.audience_step.trait_names
        applied = await retry_transient(
            lambda: self.profiles.apply(groups, traits), "applying events to Redis", self.health)
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
        await retry_transient(self.audience_step.refresh, "reading RFM quantiles", self.health)
        to_record = []
        notes: dict[str, ChangeNote] = {}
        for customer, segment in zip(fresh, segments, strict=True):
            assert customer.cause is not None
            audience = self.audience_step.record_for(
                customer, now_ms, cause_message_id=customer.cause.message_id,
                event_time_ms=customer.cause.time_ms, emitted_at_ms=emitted_at,
                model_version=self.segmenter.version)
            note_audience_changes(notes, customer.customer_id, audience, customer.cause.time_ms)
            if segment == customer.segment:
                # Recorded anyway: the step clears the customer's pending-assignment mark.
                to_record.append(SegmentRecord(customer.customer_id, customer.segment,
                                               segment or "", 0, "", b"", audience))
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
                change["event_id"], orjson.dumps(change), audience,
            ))
            notes[change["event_id"]] = ChangeNote(customer.customer_id, "cluster",
                                                   customer.cause.time_ms)
        recorded = await retry_transient(
            lambda: self.profiles.record(to_record), "recording segments in Redis", self.health)
        outcome.add_recorded(recorded, notes)
        return outcome

    def _hide_ids(self, facts: list[EventFact], forgets: list[ForgetRequest],
                  ) -> tuple[list[EventFact], list[ForgetRequest]]:
        hide = self.stored_id
        assert hide is not None
        return ([replace(f, customer_id=hide(f.customer_id),
                         merges_from=hide(f.merges_from) if f.merges_from else None)
                 for f in facts],
                [r._replace(customer_id=hide(r.customer_id)) for r in forgets])

    async def process_due(self, limit: int = 500) -> BatchOutcome:
        """Re-evaluate customers whose audiences time alone may have changed by now.

        "Now" is the shared event-time watermark (or the wall clock), so a customer enters
        ``at_risk`` when the stream's time passes the 60 silent days, not at their next event.
        The cause of such a change is the due instant itself, which every worker computes
        alike: two timers racing record it once, under one event_id.
        """
        outcome = BatchOutcome()
        stored_now = await retry_transient(self.profiles.watermark_ms, "reading", self.health)
        self.watermark.observe([stored_now])
        now_ms = self.watermark.now_ms()
        due = await retry_transient(lambda: self.profiles.due(now_ms, limit),
                                    "reading due customers", self.health)
        if not due:
            return outcome
        await retry_transient(self.audience_step.refresh, "reading RFM quantiles", self.health)
        emitted_at = self._wall.now_ms()
        to_record = []
        notes: dict[str, ChangeNote] = {}
        for customer_id, due_ms in due:
            stored = await retry_transient(partial(self.profiles.read, customer_id),
                                           "reading a profile", self.health)
            if stored is None:
                continue
            state = CustomerState(customer_id, stored.counters, stored.windows, stored.traits,
                                  stored.audiences, stored.rfm_fields)
            audience = self.audience_step.record_for(
                state, now_ms, cause_message_id=f"due:{due_ms}", event_time_ms=due_ms,
                emitted_at_ms=emitted_at, model_version=self.segmenter.version)
            note_audience_changes(notes, customer_id, audience, due_ms)
            to_record.append(SegmentRecord(customer_id, stored.segment, stored.segment or "", 0,
                                           "", b"", audience))
        recorded = await retry_transient(
            lambda: self.profiles.record(to_record), "recording audiences in Redis", self.health)
        outcome.add_recorded(recorded, notes)
        outcome.applied = len(to_record)
        return outcome
