"""An in-memory ``ProfileStore`` with the same semantics as the Lua scripts, for unit tests.

It is also the executable specification of those scripts: an integration test feeds both the
same batches and requires the same answers. It specifies what is stored, not how: the compact
encoding of a profile hash (``streamapp.store.keys.FIELDS``) is the Redis side's alone.

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

import orjson

from streamapp.core.changes import Kind
from streamapp.core.facts import EventFact
from streamapp.core.features import Counters
from streamapp.core.windows import add_order, day_of, decode, encode
from streamapp.security import hash_customer_id
from streamapp.store.forget import ForgetResult, exited_change
from streamapp.store.profiles import AppliedCustomer, SegmentRecord, StoredProfile


@dataclass
class _Profile:
    counters: Counters = field(default_factory=Counters)
    offsets: dict[int, int] = field(default_factory=dict)  # partition -> last applied offset
    recent: list[str] = field(default_factory=list)
    traits: dict[str, str] = field(default_factory=dict)
    segment: str | None = None
    since_ms: int = 0
    pending_offset: int | None = None
    windows: str = ""
    audiences: tuple[str, ...] = ()
    rfm_fields: str = ""


class MemoryProfileStore:
    """Profiles, counts and outbox in dicts; same methods and rules as ``ProfileStore``."""

    def __init__(self, dedupe_window: int = 16, id_salt: str = "") -> None:
        self.dedupe_window = dedupe_window
        self.id_salt = id_salt
        self.profiles: dict[str, _Profile] = {}
        self.segment_counts: dict[str, int] = {}
        self.outbox: dict[str, bytes] = {}
        self.watermark = 0
        self.suppressed: set[str] = set()  # hashed ids of forgotten customers
        self.dropped = 0  # events dropped because their customer was forgotten
        self.audience_totals: dict[str, int] = {}
        self.rfm: dict[str, int] = {}
        self.due_at: dict[str, int] = {}
        self.aliases: dict[str, str] = {}

    async def apply(self, groups: Mapping[str, Sequence[EventFact]],
                    trait_names: Sequence[str] = ()) -> list[AppliedCustomer]:
        out = []
        for customer_id, facts in groups.items():
            target = self.aliases.get(customer_id, customer_id)
            self.watermark = max([self.watermark, *(f.time_ms for f in facts)])
            if hash_customer_id(customer_id, self.id_salt) in self.suppressed:
                self.dropped += len(facts)
                out.append(AppliedCustomer(target, Counters(), None, None))
                continue
            profile = self.profiles.setdefault(target, _Profile())
            cause = None
            for fact in facts:
                seen_offset = profile.offsets.get(fact.partition)
                if seen_offset is not None and fact.offset <= seen_offset:
                    continue
                if fact.fingerprint not in profile.recent:
                    profile.counters = profile.counters.apply(fact)
                    profile.traits.update(fact.traits)
                    profile.recent = [fact.fingerprint, *profile.recent][: self.dedupe_window]
                    if fact.is_order:
                        profile.windows = encode(add_order(
                            decode(profile.windows), day_of(fact.time_ms), fact.revenue_cents))
                    if fact.merges_from is not None:
                        self._merge(fact.merges_from, target, profile, fact)
                    cause = fact
                # Read again: a merge may have brought a higher offset of this partition.
                profile.offsets[fact.partition] = max(
                    fact.offset, profile.offsets.get(fact.partition, fact.offset))
            if cause is not None:
                profile.pending_offset = cause.offset
            elif profile.pending_offset is not None:
                cause = next((f for f in facts if f.offset == profile.pending_offset), None)
            out.append(AppliedCustomer(
                target, profile.counters, profile.segment, cause, profile.windows,
                profile.audiences, profile.rfm_fields,
                {n: profile.traits[n] for n in trait_names if n in profile.traits}))
        return out

    def _merge(self, source_id: str, target_id: str, profile: _Profile, fact: EventFact) -> None:
        """Identity merge, exactly once: ``source_id``'s profile joins ``target_id``'s."""
        if source_id == target_id or source_id in self.aliases:
            return
        self.aliases[source_id] = target_id
        source = self.profiles.pop(source_id, None)
        if source is None:
            return
        a, b = profile.counters, source.counters
        firsts = [t for t in (a.first_seen_ms, b.first_seen_ms) if t]
        profile.counters = Counters(
            a.events_total + b.events_total, a.orders_total + b.orders_total,
            a.revenue_cents + b.revenue_cents, a.page_views + b.page_views,
            min(firsts, default=0), max(a.last_seen_ms, b.last_seen_ms),
            max(a.last_order_ms, b.last_order_ms))
        profile.recent = [*profile.recent, *source.recent][: self.dedupe_window]
        buckets = decode(profile.windows)
        for bucket in decode(source.windows):
            buckets = add_order(buckets, bucket.day, bucket.cents, bucket.orders)
        profile.windows = encode(buckets)
        for partition, offset in source.offsets.items():
            profile.offsets[partition] = max(offset, profile.offsets.get(partition, offset))
        for name, value in source.traits.items():
            profile.traits.setdefault(name, value)
        exits: list[tuple[Kind, str]] = [("cluster", source.segment)] if source.segment else []
        exits += [("audience", name) for name in source.audiences]
        for kind, name in exits:
            (_bump(self.segment_counts, name, -1) if kind == "cluster"
             else _bump(self.audience_totals, name, -1))
            change = exited_change(source_id, name, fact.message_id, fact.time_ms, kind=kind)
            change["merged_into"] = target_id
            self.outbox[str(change["event_id"])] = orjson.dumps(change)
        for name in filter(None, source.rfm_fields.split(",")):
            _bump(self.rfm, name, -1)
        self.due_at.pop(source_id, None)

    async def record(self, records: Sequence[SegmentRecord]) -> list[tuple[str, bytes]]:
        recorded: list[tuple[str, bytes]] = []
        for r in records:
            profile = self.profiles.get(r.customer_id)
            if profile is None:  # forgotten after its events were applied
                continue
            profile.pending_offset = None
            current = profile.segment or ""
            if current == (r.expected or "") and current != r.segment:
                if profile.segment:
                    _bump(self.segment_counts, profile.segment, -1)
                profile.segment, profile.since_ms = r.segment, r.since_ms
                _bump(self.segment_counts, r.segment, 1)
                self.outbox[r.event_id] = r.change_json
                recorded.append((r.event_id, r.change_json))
            a = r.audience
            if a is None or profile.audiences != a.expected:
                continue
            profile.audiences = a.audiences
            for event_id, change, name, delta in a.changes:
                self.outbox[event_id] = change
                _bump(self.audience_totals, name, delta)
                recorded.append((event_id, change))
            if profile.rfm_fields != a.rfm_fields:
                for name in filter(None, profile.rfm_fields.split(",")):
                    _bump(self.rfm, name, -1)
                for name in filter(None, a.rfm_fields.split(",")):
                    _bump(self.rfm, name, 1)
                profile.rfm_fields = a.rfm_fields
            if a.due_ms is None:
                self.due_at.pop(r.customer_id, None)
            else:
                self.due_at[r.customer_id] = a.due_ms
        return recorded

    async def rfm_counts(self) -> dict[str, int]:
        return dict(self.rfm)

    async def audience_counts(self) -> dict[str, int]:
        return dict(self.audience_totals)

    async def due(self, now_ms: int, limit: int) -> list[tuple[str, int]]:
        ready = sorted((t, c) for c, t in self.due_at.items() if t <= now_ms)
        return [(c, t) for t, c in ready[:limit]]

    async def forget(self, customer_id: str, cause_message_id: str,
                     time_ms: int) -> ForgetResult:
        self.suppressed.add(hash_customer_id(customer_id, self.id_salt))
        profile = self.profiles.pop(customer_id, None)
        mine = [k for k, v in self.outbox.items()
                if orjson.loads(v).get("customer_id") == customer_id]
        for event_id in mine:
            del self.outbox[event_id]
        self.due_at.pop(customer_id, None)
        if profile is not None:
            for audience in profile.audiences:
                _bump(self.audience_totals, audience, -1)
                left = exited_change(customer_id, audience, cause_message_id, time_ms,
                                     kind="audience")
                self.outbox[str(left["event_id"])] = orjson.dumps(left)
            for name in filter(None, profile.rfm_fields.split(",")):
                _bump(self.rfm, name, -1)
        if profile is None or profile.segment is None:
            return ForgetResult(profile is not None, len(mine), None, None)
        _bump(self.segment_counts, profile.segment, -1)
        change = exited_change(customer_id, profile.segment, cause_message_id, time_ms)
        event_id, json = str(change["event_id"]), orjson.dumps(change)
        self.outbox[event_id] = json
        return ForgetResult(True, len(mine), event_id, json)

    async def pending_changes(self) -> dict[str, bytes]:
        return dict(self.outbox)

    async def confirm_published(self, event_ids: Sequence[str]) -> None:
        for event_id in event_ids:
            self.outbox.pop(event_id, None)

    async def read(self, customer_id: str) -> StoredProfile | None:
        p = self.profiles.get(customer_id)
        if p is None:
            return None
        return StoredProfile(customer_id, p.counters, dict(p.traits), p.segment, p.since_ms,
                             p.windows, p.audiences, p.rfm_fields)

    async def counts(self) -> dict[str, int]:
        return dict(self.segment_counts)

    async def watermark_ms(self) -> int:
        return self.watermark

    async def customers_total(self) -> int:
        return len(self.profiles)


def _bump(counts: dict[str, int], name: str, by: int) -> None:
    counts[name] = counts.get(name, 0) + by
    if counts[name] <= 0:
        del counts[name]
