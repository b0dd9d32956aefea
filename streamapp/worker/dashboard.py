"""What the dashboard shows, gathered from Redis: totals, the last hour, recent changes, a sample.

Everything lives in Redis, not in one worker's memory, so every worker's dashboard shows the same
picture and a restart keeps the last hour: running totals of events, DLQ records and changes (a
hash, which each worker adds its counts to a few times a second), a snapshot of the counts every
``SNAPSHOT_SECONDS`` (a hash of buckets, so several workers writing the same bucket agree), and
the newest change events (a capped list). These totals are for people, not books: a batch
redelivered after a crash counts twice here, never in the profiles.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Sequence
from typing import Any

import numpy as np
import orjson

from streamapp.core.features import FEATURE_NAMES, Counters, feature_matrix
from streamapp.core.projection import histogram_by_segment, pca_2d
from streamapp.pipeline.lookup import Lookup
from streamapp.store.client import RedisClient
from streamapp.store.keys import Keys

log = logging.getLogger("streamapp.worker")
SNAPSHOT_SECONDS = 10
HISTORY_SECONDS = 3600
RECENT_CHANGES = 50
SAMPLE_SIZE = 400
# Customers without a segment yet are shown too, so a fresh start is not an empty picture.
UNASSIGNED = "unassigned"
# Shown in the feature's own unit: the model sees log1p of each (core/features.py).
FEATURE_UNITS = {"monetary": "revenue", "frequency": "orders", "recency": "days since order",
                 "activity": "events", "browsing": "page views"}


def bucket_of(epoch_s: float) -> int:
    """The history bucket a moment falls in.

    >>> bucket_of(1_700_000_009.9), bucket_of(1_700_000_010)
    (1700000000, 1700000010)
    """
    return int(epoch_s) // SNAPSHOT_SECONDS * SNAPSHOT_SECONDS


class DashboardFeed:
    """The dashboard's running totals, history and recent changes in Redis."""

    def __init__(self, redis: RedisClient, keys: Keys) -> None:
        self.redis = redis
        self.keys = keys
        self._events = self._dlq = self._changes = 0
        self._recent: deque[bytes] = deque(maxlen=RECENT_CHANGES)

    def add_batch(self, events: int, dlq: int, changes: Sequence[bytes]) -> None:
        """Count one batch; ``flush`` adds the counts to Redis."""
        self._events += events
        self._dlq += dlq
        self._changes += len(changes)
        self._recent.extend(changes)

    async def flush(self) -> None:
        """Add what was counted since the last flush to the totals and the feed; best effort,
        never fails the worker."""
        events, dlq, changes, recent = self._events, self._dlq, self._changes, list(self._recent)
        if not (events or dlq or changes):
            return
        self._events = self._dlq = self._changes = 0
        self._recent.clear()
        try:
            pipe = self.redis.pipeline(transaction=False)
            pipe.hincrby(self.keys.stats, "events", events)
            pipe.hincrby(self.keys.stats, "dlq", dlq)
            pipe.hincrby(self.keys.stats, "changes", changes)
            if recent:
                pipe.lpush(self.keys.recent_changes, *recent)
                pipe.ltrim(self.keys.recent_changes, 0, RECENT_CHANGES - 1)
            await pipe.execute()
        except Exception as exc:  # the dashboard must not stop the pipeline
            log.warning("dashboard totals not updated: %s", exc)

    async def stats(self) -> dict[str, int]:
        raw = await self.redis.hgetall(self.keys.stats)
        totals = {_text(k): int(v) for k, v in raw.items()}
        return {name: totals.get(name, 0) for name in ("events", "dlq", "changes")}

    async def snapshot(self, counts: dict[str, int], now_s: float | None = None) -> None:
        """Record the counts and totals of this moment's bucket; forget the hour before."""
        now_s = time.time() if now_s is None else now_s
        bucket = bucket_of(now_s)
        value = orjson.dumps({"t": bucket, "counts": counts, **await self.stats()})
        await self.redis.hset(self.keys.counts_history, str(bucket), value)
        old = [k for k in await self.redis.hkeys(self.keys.counts_history)
               if int(k) < bucket - HISTORY_SECONDS]
        if old:
            await self.redis.hdel(self.keys.counts_history, *old)

    async def history(self) -> list[dict[str, Any]]:
        raw = await self.redis.hgetall(self.keys.counts_history)
        return sorted((orjson.loads(v) for v in raw.values()), key=lambda s: int(s["t"]))

    async def recent(self, limit: int = RECENT_CHANGES) -> list[dict[str, Any]]:
        raw = await self.redis.lrange(self.keys.recent_changes, 0, limit - 1)
        return [orjson.loads(v) for v in raw]


async def live_view(lookup: Lookup, feed: DashboardFeed) -> dict[str, Any]:
    """Counts, segment profiles, totals, the last hour and the newest changes (polled often)."""
    segments = await lookup.segments()
    segmenter = await lookup.segmenter()
    centres: dict[str, dict[str, float]] = {}
    if segmenter is not None and segmenter.model.is_initialised:
        names = list(segmenter.model.features or FEATURE_NAMES)
        for segment_id, centre in zip(segmenter.model.centre_ids,
                                      segmenter.model.centres_original().tolist(), strict=False):
            centres[segment_id] = {FEATURE_UNITS.get(n, n): round(float(np.expm1(v)), 2)
                                   for n, v in zip(names, centre, strict=False)}
    for segment in segments["segments"]:
        segment["centre"] = centres.get(segment["id"])
    raw = await lookup.redis.hgetall(lookup.profiles.keys.audience_counts)
    audiences = sorted(({"name": _text(k), "customers": int(v)} for k, v in raw.items()),
                       key=lambda a: str(a["name"]))
    return {**segments, "audiences": audiences, "stats": await feed.stats(),
            "history": await feed.history(), "recent_changes": await feed.recent(),
            "server_time": time.time()}


async def sample_view(lookup: Lookup, size: int = SAMPLE_SIZE) -> dict[str, Any]:
    """Histograms of each feature by segment and a 2-D projection, from sampled customers."""
    keys: list[bytes] = []
    async for key in lookup.redis.scan_iter(match=lookup.profiles.keys.profile_pattern,
                                            count=size):
        keys.append(key)
        if len(keys) >= size:
            break
    pipe = lookup.redis.pipeline(transaction=False)
    for key in keys:
        pipe.hmget(key, "e", "n", "r", "v", "f", "l", "lo", "s")
    rows = await pipe.execute() if keys else []
    counters = [Counters(*(int(x or 0) for x in row[:7])) for row in rows]
    segments = [_text(row[7]) if row[7] else UNASSIGNED for row in rows]
    now_ms = await lookup.now_ms()
    matrix = feature_matrix(counters, now_ms)
    # Binned on the model's log1p scale, where long tails spread out; the page labels each edge
    # back in the feature's own unit (expm1).
    histograms = {FEATURE_UNITS[name]: histogram_by_segment(matrix[:, i].tolist(), segments)
                  for i, name in enumerate(FEATURE_NAMES)}
    xy = pca_2d(matrix)
    return {
        "sampled": len(counters),
        "histogram_scale": "log1p",
        "histograms": histograms,
        "projection": [{"x": round(float(x), 3), "y": round(float(y), 3), "segment": s}
                       for (x, y), s in zip(xy.tolist(), segments, strict=True)],
    }


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
