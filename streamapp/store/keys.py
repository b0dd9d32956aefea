"""Where things live in Redis: every key name streamapp uses, in one place.

Profiles are one hash per customer. Their field names are short on purpose: at 100,000s of
customers each byte of a field name is paid once per customer (docs/BENCHMARKS.md); ``FIELDS``
maps them to the names the rest of the code and the profile contract use.

>>> k = Keys("sa")
>>> k.profile("u1"), k.cluster_counts
('sa:p:u1', 'sa:counts:cluster')
"""

from __future__ import annotations

from dataclasses import dataclass

# profile-hash field -> meaning
FIELDS = {
    "p": "partition of the last applied event",
    "o": "offset of the last applied event",
    "d": "fingerprints of the most recent messageIds, newest first",
    "e": "events_total",
    "n": "orders_total",
    "r": "revenue in cents",
    "v": "page_views",
    "f": "first_seen (epoch ms)",
    "l": "last_seen (epoch ms)",
    "lo": "last_order (epoch ms)",
    "s": "segment id",
    "ss": "segment since (epoch ms)",
    "a": "offset of an applied event whose segment is not assigned yet (crash recovery)",
    "t:<name>": "an allowlisted trait",
}
TRAIT_PREFIX = "t:"


@dataclass(frozen=True)
class Keys:
    """Key names under one prefix, so several deployments can share a Redis."""

    prefix: str = "streamapp"

    def profile(self, customer_id: str) -> str:
        return f"{self.prefix}:p:{customer_id}"

    @property
    def profile_pattern(self) -> str:
        return f"{self.prefix}:p:*"

    @property
    def meta(self) -> str:
        """Hash: watermark (epoch ms), customers (count of profiles)."""
        return f"{self.prefix}:meta"

    @property
    def cluster_counts(self) -> str:
        """Hash: segment id -> number of customers in it."""
        return f"{self.prefix}:counts:cluster"

    @property
    def outbox(self) -> str:
        """Hash: event_id -> change event JSON recorded but not yet confirmed by Kafka."""
        return f"{self.prefix}:outbox"

    @property
    def model(self) -> str:
        """String: the model's state as JSON."""
        return f"{self.prefix}:model"
