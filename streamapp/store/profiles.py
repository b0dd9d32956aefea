"""Customer profiles in Redis: one hash per customer, changed by one script call per batch step."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

import orjson
from redis.asyncio import Redis

from streamapp.core.facts import EventFact
from streamapp.core.features import Counters
from streamapp.store.keys import TRAIT_PREFIX, Keys
from streamapp.store.scripts import load_script

ScriptArg = bytes | str | int | float


@dataclass(frozen=True, slots=True)
class AppliedCustomer:
    """A customer after a batch: its counters, its recorded segment, the last event that counted."""

    customer_id: str
    counters: Counters
    segment: str | None
    cause: EventFact | None  # None: every event of the batch had been applied before


@dataclass(frozen=True, slots=True)
class SegmentRecord:
    """A segment to record for a customer, if its segment is still ``expected``."""

    customer_id: str
    expected: str | None
    segment: str
    since_ms: int
    event_id: str
    change_json: bytes


@dataclass(frozen=True, slots=True)
class StoredProfile:
    """What Redis holds about one customer, before anything is derived from it."""

    customer_id: str
    counters: Counters
    traits: dict[str, str]
    segment: str | None
    segment_since_ms: int


class Profiles(Protocol):
    """What the pipeline needs of a profile store; ``ProfileStore`` and the in-memory fake."""

    async def apply(self, groups: Mapping[str, Sequence[EventFact]]) -> list[AppliedCustomer]: ...
    async def record(self, records: Sequence[SegmentRecord]) -> list[SegmentRecord]: ...
    async def pending_changes(self) -> dict[str, bytes]: ...
    async def confirm_published(self, event_ids: Sequence[str]) -> None: ...
    async def read(self, customer_id: str) -> StoredProfile | None: ...
    async def counts(self) -> dict[str, int]: ...
    async def watermark_ms(self) -> int: ...
    async def customers_total(self) -> int: ...


def _fact_row(fact: EventFact) -> list[object]:
    traits = [item for pair in fact.traits.items() for item in pair]
    return [fact.offset, fact.fingerprint, fact.time_ms, int(fact.is_order), fact.revenue_cents,
            int(fact.is_page_view), traits]


class ProfileStore:
    """Profiles, live counts and the change outbox, in Redis."""

    def __init__(self, redis: Redis, keys: Keys, dedupe_window: int) -> None:
        self.redis = redis
        self.keys = keys
        self.dedupe_window = dedupe_window
        self._apply = load_script(redis, "apply_events")
        self._record = load_script(redis, "record_segments")

    async def apply(self, groups: Mapping[str, Sequence[EventFact]]) -> list[AppliedCustomer]:
        """Apply each customer's events (in offset order) atomically and idempotently."""
        if not groups:
            return []
        ids = list(groups)
        newest = max(f.time_ms for facts in groups.values() for f in facts)
        args: list[ScriptArg] = [self.dedupe_window, newest]
        args += [orjson.dumps([groups[c][0].partition, [_fact_row(f) for f in groups[c]]])
                 for c in ids]
        keys = [self.keys.profile(c) for c in ids] + [self.keys.meta]
        rows = await self._apply(keys=keys, args=args)
        applied = []
        for customer_id, row in zip(ids, rows, strict=True):
            last, *numbers, segment = row
            counters = Counters(*(int(x) for x in numbers))
            cause = groups[customer_id][int(last) - 1] if int(last) else None
            applied.append(AppliedCustomer(customer_id, counters, _text(segment) or None, cause))
        return applied

    async def record(self, records: Sequence[SegmentRecord]) -> list[SegmentRecord]:
        """Record segments, counts and change events atomically; return the ones recorded."""
        if not records:
            return []
        keys = [self.keys.profile(r.customer_id) for r in records]
        keys += [self.keys.cluster_counts, self.keys.outbox]
        args: list[ScriptArg] = []
        for r in records:
            args += [r.expected or "", r.segment, r.since_ms, r.event_id, r.change_json]
        recorded = await self._record(keys=keys, args=args)
        return [records[int(i) - 1] for i in recorded]

    async def pending_changes(self) -> dict[str, bytes]:
        """Change events recorded but not yet confirmed as published (event_id -> JSON)."""
        raw = await self.redis.hgetall(self.keys.outbox)
        return {_text(k): v if isinstance(v, bytes) else v.encode() for k, v in raw.items()}

    async def confirm_published(self, event_ids: Sequence[str]) -> None:
        """Drop change events from the outbox once Kafka has them."""
        if event_ids:
            await self.redis.hdel(self.keys.outbox, *event_ids)

    async def read(self, customer_id: str) -> StoredProfile | None:
        """One customer's stored profile, or None when unknown."""
        raw = {_text(k): _text(v) for k, v in
               (await self.redis.hgetall(self.keys.profile(customer_id))).items()}
        if not raw:
            return None
        counters = Counters(*(int(raw.get(f, 0)) for f in ("e", "n", "r", "v", "f", "l", "lo")))
        traits = {k[len(TRAIT_PREFIX):]: v for k, v in raw.items() if k.startswith(TRAIT_PREFIX)}
        return StoredProfile(customer_id, counters, traits, raw.get("s") or None,
                             int(raw.get("ss", 0)))

    async def counts(self) -> dict[str, int]:
        """Live number of customers per segment."""
        raw = await self.redis.hgetall(self.keys.cluster_counts)
        return {_text(k): int(v) for k, v in raw.items()}

    async def watermark_ms(self) -> int:
        """The newest event time applied so far (epoch ms), 0 before any."""
        return int(await self.redis.hget(self.keys.meta, "watermark") or 0)

    async def customers_total(self) -> int:
        """Number of customers with a profile."""
        return int(await self.redis.hget(self.keys.meta, "customers") or 0)


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
