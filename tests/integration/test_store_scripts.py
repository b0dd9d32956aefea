"""The Lua scripts in real Redis against their executable specification, the in-memory store."""

from __future__ import annotations

import random

import orjson
import pytest
from redis.asyncio import Redis

from streamapp.core.facts import FINGERPRINT_BYTES, EventFact
from streamapp.core.windows import decode
from streamapp.store.keys import Keys
from streamapp.store.memory import MemoryProfileStore
from streamapp.store.packing import pack_rfm, pack_windows
from streamapp.store.profiles import AudienceRecord, ProfileStore, SegmentRecord
from tests.integration.conftest import Stack

pytestmark = pytest.mark.integration


def _batches(seed: int) -> list[dict[str, list[EventFact]]]:
    """Random batches with redeliveries, producer duplicates and out-of-order event times."""
    rng = random.Random(seed)
    offsets = {p: 0 for p in range(3)}
    log: list[EventFact] = []
    for i in range(1500):
        customer = f"c{rng.randrange(60)}"
        partition = int(customer[1:]) % 3
        offsets[partition] += 1
        message_id = f"m{i}" if rng.random() > 0.05 or not log else log[-1].message_id
        kind = rng.random()
        log.append(EventFact(
            customer, partition, offsets[partition], message_id,
            1_767_225_600_000 + rng.randrange(10**9),
            is_order=kind < 0.3, revenue_cents=rng.randrange(100, 50_000) if kind < 0.3 else 0,
            is_page_view=kind > 0.7, traits={"plan": "pro"} if kind > 0.95 else {},
            # Now and then an identity merge of another customer into this one.
            merges_from=f"c{rng.randrange(60)}" if rng.random() < 0.01 else None))
    batches = []
    start = 0
    while start < len(log):
        size = rng.randrange(1, 120)
        chunk = log[max(0, start - rng.randrange(0, 40)): start + size]  # overlaps: redelivery
        start += size
        groups: dict[str, list[EventFact]] = {}
        for fact in chunk:
            groups.setdefault(fact.customer_id, []).append(fact)
        batches.append(groups)
    return batches


def _comparable(outbox: dict[str, bytes]) -> dict[str, dict[str, object]]:
    """Change events without the wall-clock time they were built at."""
    return {k: {f: x for f, x in orjson.loads(v).items() if f != "emitted_at"}
            for k, v in outbox.items()}


def _audience(current: tuple[str, ...], rng: random.Random) -> AudienceRecord | None:
    if rng.random() < 0.2:
        return None
    new = tuple(sorted(rng.sample(["big", "quiet", "new"], rng.randrange(0, 3))))
    # Now and then a stale expectation, as when a timer and a batch race: nothing is recorded.
    expected = current if rng.random() > 0.1 else ("stale",)
    changes = tuple((f"a{rng.random()}", b"{}", name, 1 if name in new else -1)
                    for name in sorted(set(current) ^ set(new)))
    rfm = f"r:{rng.randrange(5)},f:{rng.randrange(3)},m:{rng.randrange(9)}" if new else ""
    due = rng.choice([None, rng.randrange(10**12)])
    return AudienceRecord(expected, new, rfm, due, changes)


@pytest.mark.parametrize("seed", [1, 2])
async def test_lua_and_memory_stores_agree(stack: Stack, redis: Redis, seed: int) -> None:
    real = ProfileStore(redis, Keys(stack.name), dedupe_window=8)
    spec = MemoryProfileStore(dedupe_window=8)
    rng = random.Random(seed)
    for number, groups in enumerate(_batches(seed)):
        got = await real.apply(groups, trait_names=["plan", "country"])
        assert got == await spec.apply(groups, trait_names=["plan", "country"]), f"batch {number}"
        records = [SegmentRecord(a.customer_id, a.segment, f"seg-{number % 4}", number,
                                 f"e{number}-{a.customer_id}", b"{}", _audience(a.audiences, rng))
                   for a in got if a.cause]
        assert await real.record(records) == await spec.record(records)
    assert await real.counts() == await spec.counts()
    assert _comparable(await real.pending_changes()) == _comparable(await spec.pending_changes())
    assert await real.watermark_ms() == await spec.watermark_ms()
    assert await real.customers_total() == await spec.customers_total()
    assert await real.rfm_counts() == await spec.rfm_counts()
    assert await real.audience_counts() == await spec.audience_counts()
    assert await real.due(2**60, 10_000) == await spec.due(2**60, 10_000)
    for customer_id in spec.profiles:
        assert await real.read(customer_id) == await spec.read(customer_id)


async def test_a_typical_profile_is_a_small_listpack(stack: Stack, redis: Redis) -> None:
    """Packed fields as the Python codec writes them; no zeros; never a hash table."""
    keys = Keys(stack.name)
    store = ProfileStore(redis, keys, dedupe_window=8)
    day = 86_400_000
    start = 1_767_225_600_000
    browser = [EventFact("b1", 2, i, f"b{i}", start + i, is_page_view=True,
                         traits={"country": "DE", "plan": "free"} if i == 0 else {})
               for i in range(12)]
    # A heavy buyer: an order on each of twelve days of the last 90, each worth $299.99.
    buyer = [EventFact("u1", 1, i, f"m{i}", start + 7 * i * day, is_order=True,
                       revenue_cents=29_999) for i in range(12)]
    applied = await store.apply({"b1": browser, "u1": buyer})
    rfm = "r:20537,f:17,m:89"
    await store.record([
        SegmentRecord(a.customer_id, None, "seg-1", start, f"e-{a.customer_id}", b"{}",
                      AudienceRecord((), (), rfm if a.customer_id == "u1" else "", None))
        for a in applied])
    raw_browser = await redis.hgetall(keys.profile("b1"))
    assert set(raw_browser) == {b"2", b"d", b"e", b"v", b"f", b"l", b"s", b"S", b"tc", b"tp"}
    assert len(raw_browser[b"d"]) == 8 * FINGERPRINT_BYTES
    raw_buyer = await redis.hgetall(keys.profile("u1"))
    assert raw_buyer[b"W"] == pack_windows(decode(applied[1].windows))
    assert raw_buyer[b"R"] == pack_rfm(rfm)
    for key in ("b1", "u1"):
        assert await redis.object("encoding", keys.profile(key)) == b"listpack", key
    # Since is kept relative to last_seen, which a later event moves.
    await store.apply({"b1": [EventFact("b1", 2, 12, "b12", start + day)]})
    browser_now, buyer_now = await store.read("b1"), await store.read("u1")
    assert browser_now is not None and buyer_now is not None
    assert (browser_now.segment_since_ms, browser_now.counters.last_seen_ms) == (start, start + day)
    assert buyer_now.rfm_fields == rfm
