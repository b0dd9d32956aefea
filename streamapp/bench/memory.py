"""What Redis keeps per customer, measured with ``MEMORY USAGE`` under one key prefix.

Profiles are sampled (``MEMORY USAGE`` of a profile hash is exact, and profiles of one workload
are alike); every other key under the prefix — counts, model state, outbox, suppression list,
dashboard — is measured whole, and the total is spread over the customers. ``INFO memory`` is not
used: other tenants of the same Redis move it.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from streamapp.store.client import RedisClient
from streamapp.store.keys import Keys

SCAN_COUNT = 5000


@dataclass
class RedisMemory:
    """Bytes per customer: the profile hash alone, and everything under the prefix."""

    customers: int
    profile_keys: int
    profile_mean_bytes: float
    other_keys_bytes: int
    sampled: int

    @property
    def per_customer_bytes(self) -> float:
        total = self.profile_mean_bytes * self.profile_keys + self.other_keys_bytes
        return total / self.customers if self.customers else 0.0

    def as_dict(self) -> dict[str, float | int]:
        return {"customers": self.customers, "profile_keys": self.profile_keys,
                "profile_mean_bytes": round(self.profile_mean_bytes, 1),
                "other_keys_bytes": self.other_keys_bytes,
                "per_customer_bytes": round(self.per_customer_bytes, 1), "sampled": self.sampled}


async def redis_memory(redis: RedisClient, prefix: str, customers: int, sample: int = 2000,
                       seed: int = 1) -> RedisMemory:
    """Measure the keys under ``prefix``; ``customers`` is how many the workload had."""
    keys = Keys(prefix)
    profile_prefix = keys.profile("").encode()
    profiles: list[bytes] = []
    others: list[bytes] = []
    async for key in redis.scan_iter(match=keys.pattern, count=SCAN_COUNT):
        (profiles if key.startswith(profile_prefix) else others).append(key)
    chosen = random.Random(seed).sample(profiles, min(sample, len(profiles)))
    sizes = await _usage(redis, chosen)
    other_sizes = await _usage(redis, others)
    mean = sum(sizes) / len(sizes) if sizes else 0.0
    return RedisMemory(customers, len(profiles), mean, sum(other_sizes), len(sizes))


async def _usage(redis: RedisClient, keys: list[bytes]) -> list[int]:
    out: list[int] = []
    for start in range(0, len(keys), 1000):
        pipe = redis.pipeline(transaction=False)
        for key in keys[start:start + 1000]:
            # SAMPLES 0: measure every element of a collection, not an estimate from five.
            pipe.execute_command("MEMORY USAGE", key, "SAMPLES", "0")
        out.extend(int(size or 0) for size in await pipe.execute())
    return out


async def delete_prefix(redis: RedisClient, prefix: str) -> int:
    """Remove every key under ``prefix`` (UNLINK: freed in the background); return how many."""
    removed = 0
    batch: list[bytes] = []
    async for key in redis.scan_iter(match=Keys(prefix).pattern, count=SCAN_COUNT):
        batch.append(key)
        if len(batch) >= 1000:
            removed += int(await redis.unlink(*batch))
            batch.clear()
    if batch:
        removed += int(await redis.unlink(*batch))
    return removed
