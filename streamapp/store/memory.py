"""An in-memory ``ProfileStore`` with the same semantics as the Lua scripts, for unit tests.

It is also the executable specification of those scripts: an integration test feeds both the
same batches and requires the same answers.

>>> import asyncio
>>> from streamapp.core.facts import EventFact
>>> store = MemoryProfileStore()
>>> batch = {"u1": [EventFact.order("u1", 0, 1, "m1", 1_000, 5.0)]}
>>> [a.counters.orders_total for a in asyncio.run(store.apply(batch))]
[1]
>>> again = asyncio.run(store.apply(batch))  # redelivered before its segment was recorded
>>> again[0].counters.orders_total, again[0].cause.offset
(1, 1)
>>> _ = asyncio.run(store.record([SegmentRecord("u1", None, "seg-1", 1_000, "e1", b"{}")]))
>>> [a.cause for a in asyncio.run(store.apply(batch))]  # now a redelivery changes nothing
[None]
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from streamapp.core.facts import EventFact
from streamapp.core.features import Counters
from streamapp.store.profiles import AppliedCustomer, SegmentRecord, StoredProfile


@dataclass
class _Profile:
    counters: Counters = field(default_factory=Counters)
    position: tuple[int, int] | None = None
    recent: list[str] = field(default_factory=list)
    traits: dict[str, str] = field(default_factory=dict)
    segment: str | None = None
    since_ms: int = 0
    pending_offset: int | None = None


class MemoryProfileStore:
    """Profiles, counts and outbox in dicts; same methods and rules as ``ProfileStore``."""

    def __init__(self, dedupe_window: int = 16) -> None:
        self.dedupe_window = dedupe_window
        self.profiles: dict[str, _Profile] = {}
        self.segment_counts: dict[str, int] = {}
        self.outbox: dict[str, bytes] = {}
        self.watermark = 0

    async def apply(self, groups: Mapping[str, Sequence[EventFact]]) -> list[AppliedCustomer]:
        out = []
        for customer_id, facts in groups.items():
            profile = self.profiles.setdefault(customer_id, _Profile())
            cause = None
            for fact in facts:
                pos = profile.position
                if pos is not None and pos[0] == fact.partition and fact.offset <= pos[1]:
                    continue
                if fact.fingerprint not in profile.recent:
                    profile.counters = profile.counters.apply(fact)
                    profile.traits.update(fact.traits)
                    profile.recent = [fact.fingerprint, *profile.recent][: self.dedupe_window]
                    cause = fact
                profile.position = (fact.partition, fact.offset)
            if cause is not None:
                profile.pending_offset = cause.offset
            elif profile.pending_offset is not None:
                cause = next((f for f in facts if f.offset == profile.pending_offset), None)
            out.append(AppliedCustomer(customer_id, profile.counters, profile.segment, cause))
            self.watermark = max([self.watermark, *(f.time_ms for f in facts)])
        return out

    async def record(self, records: Sequence[SegmentRecord]) -> list[SegmentRecord]:
        recorded = []
        for r in records:
            profile = self.profiles[r.customer_id]
            profile.pending_offset = None
            if profile.segment != r.expected or (profile.segment or "") == r.segment:
                continue
            if profile.segment:
                self.segment_counts[profile.segment] -= 1
                if self.segment_counts[profile.segment] <= 0:
                    del self.segment_counts[profile.segment]
            profile.segment, profile.since_ms = r.segment, r.since_ms
            self.segment_counts[r.segment] = self.segment_counts.get(r.segment, 0) + 1
            self.outbox[r.event_id] = r.change_json
            recorded.append(r)
        return recorded

    async def pending_changes(self) -> dict[str, bytes]:
        return dict(self.outbox)

    async def confirm_published(self, event_ids: Sequence[str]) -> None:
        for event_id in event_ids:
            self.outbox.pop(event_id, None)

    async def read(self, customer_id: str) -> StoredProfile | None:
        p = self.profiles.get(customer_id)
        if p is None:
            return None
        return StoredProfile(customer_id, p.counters, dict(p.traits), p.segment, p.since_ms)

    async def counts(self) -> dict[str, int]:
        return dict(self.segment_counts)

    async def watermark_ms(self) -> int:
        return self.watermark

    async def customers_total(self) -> int:
        return len(self.profiles)
