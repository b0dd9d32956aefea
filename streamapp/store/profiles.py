"""Customer profiles in Redis: one hash per customer, changed by one script call per batch step."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Protocol

import orjson

from streamapp.core.clock import wall_clock_ms
from streamapp.core.facts import EventFact
from streamapp.core.features import Counters, iso
from streamapp.core.windows import encode
from streamapp.security import hash_customer_id
from streamapp.store.client import RedisClient
from streamapp.store.forget import ForgetResult, Forgetter
from streamapp.store.keys import Keys, trait_field, trait_name
from streamapp.store.packing import unpack_rfm, unpack_windows
from streamapp.store.scripts import load_script

ScriptArg = bytes | str | int | float


# Not frozen, as EventFact (streamapp.core.facts): one is built per customer and batch.
@dataclass(slots=True)
class AppliedCustomer:
    """A customer after a batch: its counters, its recorded segment, the last event that counted."""

    customer_id: str
    counters: Counters
    segment: str | None
    cause: EventFact | None  # None: every event of the batch had been applied before
    windows: str = ""  # daily order buckets, streamapp.core.windows.encode
    audiences: tuple[str, ...] = ()
    rfm_fields: str = ""
    traits: Mapping[str, str] = field(default_factory=dict)  # only the ones asked for


# Not frozen, as EventFact (streamapp.core.facts): one is built per customer and batch.
@dataclass(slots=True)
class AudienceRecord:
    """Audiences, RFM fields and the next wake-up to record, if audiences are still ``expected``."""

    expected: tuple[str, ...]
    audiences: tuple[str, ...]
    rfm_fields: str
    due_ms: int | None
    changes: tuple[tuple[str, bytes, str, int], ...] = ()  # (event_id, JSON, audience, +1 | -1)


# Not frozen, as EventFact (streamapp.core.facts): one is built per customer and batch.
@dataclass(slots=True)
class SegmentRecord:
    """A segment to record for a customer, if its segment is still ``expected``."""

    customer_id: str
    expected: str | None
    segment: str
    since_ms: int
    event_id: str
    change_json: bytes
    audience: AudienceRecord | None = None


@dataclass(frozen=True, slots=True)
class StoredProfile:
    """What Redis holds about one customer, before anything is derived from it."""

    customer_id: str
    counters: Counters
    traits: dict[str, str]
    segment: str | None
    segment_since_ms: int
    windows: str = ""
    audiences: tuple[str, ...] = ()
    rfm_fields: str = ""


class Profiles(Protocol):
    """What the pipeline needs of a profile store; ``ProfileStore`` and the in-memory fake."""

    async def apply(self, groups: Mapping[str, Sequence[EventFact]],
                    trait_names: Sequence[str] = ()) -> list[AppliedCustomer]: ...
    async def forget(self, customer_id: str, cause_message_id: str,
                     time_ms: int) -> ForgetResult: ...
    async def record(self, records: Sequence[SegmentRecord]) -> list[tuple[str, bytes]]: ...
    async def pending_changes(self) -> dict[str, bytes]: ...
    async def confirm_published(self, event_ids: Sequence[str]) -> None: ...
    async def read(self, customer_id: str) -> StoredProfile | None: ...
    async def counts(self) -> dict[str, int]: ...
    async def watermark_ms(self) -> int: ...
    async def customers_total(self) -> int: ...
    async def rfm_counts(self) -> dict[str, int]: ...
    async def audience_counts(self) -> dict[str, int]: ...
    async def due(self, now_ms: int, limit: int) -> list[tuple[str, int]]: ...


def _fact_row(fact: EventFact) -> list[object]:
    traits = [item for name, value in fact.traits.items() for item in (trait_field(name), value)]
    row: list[object] = [fact.offset, fact.time_ms, int(fact.is_order), fact.revenue_cents,
                         int(fact.is_page_view), traits]
    if fact.merges_from is not None:
        row.append([fact.merges_from, fact.message_id, iso(fact.time_ms)])
    return row


class ProfileStore:
    """Profiles, live counts and the change outbox, in Redis."""

    def __init__(self, redis: RedisClient, keys: Keys, dedupe_window: int,
                 id_salt: str = "") -> None:
        self.redis = redis
        self.keys = keys
        self.dedupe_window = dedupe_window
        self.id_salt = id_salt  # key of the suppression list's hashes (STREAMAPP_CUSTOMER_ID_SALT)
        self._apply = load_script(redis, "apply_events", "packing")
        self._record = load_script(redis, "record_segments", "packing")
        self._forgetter = Forgetter(redis, keys)

    async def apply(self, groups: Mapping[str, Sequence[EventFact]],
                    trait_names: Sequence[str] = ()) -> list[AppliedCustomer]:
        """Apply each customer's events (in offset order) atomically and idempotently; return
        their counters and what else is stored, with the values of ``trait_names``."""
        if not groups:
            return []
        ids = list(groups)
        newest = max(f.time_ms for facts in groups.values() for f in facts)
        options = {"traits": [trait_field(name) for name in trait_names],
                   "prefix": self.keys.profile(""),
                   "emitted_at": iso(wall_clock_ms())}
        rows = [[groups[c][0].partition, [_fact_row(f) for f in groups[c]],
                 hash_customer_id(c, self.id_salt), c] for c in ids]
        fingerprints = bytes.fromhex("".join(f.fingerprint for c in ids for f in groups[c]))
        args: list[ScriptArg] = [self.dedupe_window, newest, orjson.dumps(options),
                                 orjson.dumps(rows), fingerprints]
        k = self.keys
        keys = [k.profile(c) for c in ids] + [
            k.meta, k.suppressed, k.aliases, k.cluster_counts, k.audience_counts, k.rfm, k.due,
            k.outbox]
        replies = await self._apply(keys=keys, args=args)
        applied = []
        for facts, row in zip(groups.values(), replies, strict=True):
            # A forgotten customer's row is all zeros with no cause: nothing to assign.
            last, *numbers, segment, _forgotten, windows, audiences, rfm_fields, traits, into = row
            last = int(last)
            applied.append(AppliedCustomer(
                _text(into), Counters(*map(int, numbers)), _text(segment) or None,
                facts[last - 1] if last else None,
                encode(unpack_windows(_bytes(windows))) if windows else "",
                _split(_text(audiences)) if audiences else (),
                _rfm_text(_bytes(rfm_fields)) if rfm_fields else "",
                {name: _text(v) for name, v in zip(trait_names, traits, strict=True) if v}
                if trait_names else {},
            ))
        return applied

    async def forget(self, customer_id: str, cause_message_id: str,
                     time_ms: int) -> ForgetResult:
        """Forget a customer: every trace goes, an ``exited`` change goes to the outbox, and the
        hashed id goes on the suppression list so their later events are dropped."""
        return await self._forgetter.forget(
            customer_id, hash_customer_id(customer_id, self.id_salt), cause_message_id, time_ms)

    async def dropped_forgotten(self) -> int:
        """Events dropped because their customer had been forgotten."""
        return int(await self.redis.hget(self.keys.meta, "dropped_forgotten") or 0)

    async def record(self, records: Sequence[SegmentRecord]) -> list[tuple[str, bytes]]:
        """Record segments, audiences, counts and change events atomically; return the change
        events recorded as (event_id, JSON)."""
        if not records:
            return []
        keys = [self.keys.profile(r.customer_id) for r in records]
        keys += [self.keys.cluster_counts, self.keys.outbox, self.keys.audience_counts,
                 self.keys.rfm, self.keys.due]
        place: dict[str, int] = {}
        changes: list[bytes] = []

        def argument(event_id: str, change: bytes) -> int:
            if event_id not in place:
                place[event_id] = len(changes) + 2  # ARGV[1] holds the rows
                changes.append(change)
            return place[event_id]

        rows = [_record_row(r, argument) for r in records]
        recorded = await self._record(keys=keys, args=[orjson.dumps(rows), *changes])
        return [(event_id, changes[place[event_id] - 2]) for event_id in map(_text, recorded)]

    async def pending_changes(self) -> dict[str, bytes]:
        """Change events recorded but not yet confirmed as published (event_id -> JSON)."""
        raw = await self.redis.hgetall(self.keys.outbox)
        return {_text(k): _bytes(v) for k, v in raw.items()}

    async def rfm_counts(self) -> dict[str, int]:
        """The shared RFM histogram (streamapp.core.rfm field -> customers)."""
        raw = await self.redis.hgetall(self.keys.rfm)
        return {_text(k): int(v) for k, v in raw.items()}

    async def audience_counts(self) -> dict[str, int]:
        """Live number of customers per audience."""
        raw = await self.redis.hgetall(self.keys.audience_counts)
        return {_text(k): int(v) for k, v in raw.items()}

    async def due(self, now_ms: int, limit: int) -> list[tuple[str, int]]:
        """Customers whose audiences may have changed with time by ``now_ms``, soonest first."""
        raw = await self.redis.zrangebyscore(
            self.keys.due, "-inf", now_ms, start=0, num=limit, withscores=True)
        return [(_text(pair[0]), int(pair[1])) for pair in raw if isinstance(pair, tuple | list)]

    async def mark_all_due(self, at_ms: int) -> int:
        """Make every customer due at ``at_ms`` (audiences changed: evaluate everybody)."""
        marked = 0
        async for key in self.redis.scan_iter(match=self.keys.profile_pattern, count=1000):
            await self.redis.zadd(self.keys.due, {self.keys.customer_id(key): at_ms})
            marked += 1
        return marked

    async def confirm_published(self, event_ids: Sequence[str]) -> None:
        """Drop change events from the outbox once Kafka has them."""
        if event_ids:
            await self.redis.hdel(self.keys.outbox, *event_ids)

    async def read(self, customer_id: str) -> StoredProfile | None:
        """One customer's stored profile, or None when unknown."""
        stored = await self.redis.hgetall(self.keys.profile(customer_id))
        if not stored:
            return None
        raw = {_text(k): _bytes(v) for k, v in stored.items()}
        counters = Counters(*(int(raw.get(f, 0)) for f in ("e", "n", "r", "v", "f", "l", "lo")))
        traits = {name: v.decode() for k, v in raw.items() if (name := trait_name(k)) is not None}
        segment = raw["s"].decode() if "s" in raw else None
        since = counters.last_seen_ms - int(raw.get("S", 0)) if segment is not None else 0
        return StoredProfile(customer_id, counters, traits, segment or None, since,
                             encode(unpack_windows(raw.get("W", b""))),
                             _split(raw.get("au", b"").decode()), unpack_rfm(raw.get("R", b"")))

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


def _bytes(value: bytes | str) -> bytes:
    return value if isinstance(value, bytes) else value.encode()


# Buyers share RFM fields (one day, two log bins) far more often than not, so their text is
# remembered rather than unpacked again for every customer of every batch.
_rfm_text = lru_cache(maxsize=4096)(unpack_rfm)


def _split(joined: str) -> tuple[str, ...]:
    return tuple(joined.split(",")) if joined else ()


def _record_row(r: SegmentRecord, argument: Callable[[str, bytes], int]) -> list[object]:
    """``r`` as record_segments.lua reads it; ``argument`` gives a change event's place in
    ARGV."""
    a = r.audience
    audience = None if a is None else [
        ",".join(a.expected), ",".join(a.audiences), a.rfm_fields,
        -1 if a.due_ms is None else a.due_ms,
        [[event_id, argument(event_id, change), name, delta]
         for event_id, change, name, delta in a.changes],
    ]
    return [r.customer_id, r.expected or "", r.segment, r.since_ms, r.event_id,
            argument(r.event_id, r.change_json) if r.event_id else 0, audience]
