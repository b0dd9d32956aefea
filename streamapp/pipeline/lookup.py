"""Reading what the pipeline keeps: a customer's profile and the live segment counts.

Shared by ``streamapp profile``, ``streamapp segments`` and the worker's web views, so the three
always show the same thing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from streamapp.core.clock import Watermark
from streamapp.core.explain import explain_assignment
from streamapp.core.features import FEATURE_NAMES, Counters, derive, feature_vector, iso
from streamapp.core.model import MiniBatchKMeans
from streamapp.core.rfm import RfmQuantiles, rfm_values
from streamapp.core.segmenter import Segmenter
from streamapp.settings import Settings
from streamapp.store.client import RedisClient
from streamapp.store.keys import Keys
from streamapp.store.model_state import ModelStore
from streamapp.store.profiles import ProfileStore


@dataclass
class Lookup:
    """Read-only views of the profiles, the counts and the model."""

    settings: Settings
    redis: RedisClient

    def __post_init__(self) -> None:
        keys = Keys(self.settings.redis_prefix)
        self.profiles = ProfileStore(self.redis, keys, self.settings.dedupe_window)
        self.models = ModelStore(self.redis, keys)

    async def segmenter(self) -> Segmenter | None:
        """The shared model as last saved, or None before the first batch."""
        state = await self.models.load()
        if state is None:
            return None
        return Segmenter(MiniBatchKMeans.from_state_dict(state), self.settings.switch_margin,
                         self.settings.segment_names)

    async def now_ms(self) -> int:
        """Now, by the configured clock (the shared event-time watermark by default)."""
        clock = Watermark(mode=self.settings.clock)
        clock.observe([await self.profiles.watermark_ms()])
        return clock.now_ms()

    async def profile(self, customer_id: str) -> dict[str, Any] | None:
        """The profile contract of DESIGN.md for one customer, or None when unknown."""
        customer_id = self.settings.stored_customer_id(customer_id)
        stored = await self.profiles.read(customer_id)
        if stored is None:
            return None
        segmenter = await self.segmenter()
        names = segmenter.names() if segmenter else {}
        now_ms = await self.now_ms()
        segment = None
        if stored.segment:
            segment = {"id": stored.segment, "name": names.get(stored.segment),
                       "since": iso(stored.segment_since_ms)}
        return {
            "customer_id": customer_id,
            "features": derive(stored.counters, now_ms),
            "traits": stored.traits,
            "segment": segment,
            "audiences": list(stored.audiences),
            "rfm": await self._rfm(stored.counters),
            "model_version": segmenter.version if segmenter else 0,
            "explanation": explain_assignment(
                feature_vector(stored.counters, now_ms), segmenter.model, FEATURE_NAMES,
                segment=stored.segment)
            if segmenter and isinstance(segmenter.model, MiniBatchKMeans) else None,
        }

    async def _rfm(self, counters: Counters) -> dict[str, int | str] | None:
        values = rfm_values(counters)
        if values is None:
            return None
        return RfmQuantiles(await self.profiles.rfm_counts()).score(values).as_dict()

    async def segments(self) -> dict[str, Any]:
        """Live counts per segment with names, the model version and the total of customers."""
        counts = await self.profiles.counts()
        segmenter = await self.segmenter()
        names = segmenter.names() if segmenter else {}
        ids = sorted(set(counts) | set(names), key=_segment_order)
        return {
            "model_version": segmenter.version if segmenter else 0,
            "customers_total": await self.profiles.customers_total(),
            "watermark": iso(await self.profiles.watermark_ms()),
            "segments": [{"id": i, "name": names.get(i), "customers": counts.get(i, 0)}
                         for i in ids],
            "audiences": [{"name": name, "customers": n}
                          for name, n in sorted((await self.profiles.audience_counts()).items())],
        }


def _segment_order(segment_id: str) -> tuple[int, str]:
    number = segment_id.rsplit("-", 1)[-1]
    return (int(number), segment_id) if number.isdigit() else (1 << 30, segment_id)
