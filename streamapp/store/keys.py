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
    "o<partition>": "offset of the last applied event of that partition",
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
    "w": "daily order buckets of the last 90 days (streamapp.core.windows)",
    "au": "audiences the customer is in, comma separated",
    "rb": "the customer's RFM histogram fields, comma separated",
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
    def aliases(self) -> str:
        """Hash: an id merged into another (alias, identify) -> the id it now lives under."""
        return f"{self.prefix}:aliases"

    @property
    def audience_counts(self) -> str:
        """Hash: audience name -> number of customers in it."""
        return f"{self.prefix}:counts:audience"

    @property
    def rfm(self) -> str:
        """Hash: RFM histogram field (streamapp.core.rfm.fields) -> number of buyers."""
        return f"{self.prefix}:rfm"

    @property
    def due(self) -> str:
        """Sorted set: customer id -> when time alone may change its audiences (epoch ms)."""
        return f"{self.prefix}:due"

    @property
    def outbox(self) -> str:
        """Hash: event_id -> change event JSON recorded but not yet confirmed by Kafka."""
        return f"{self.prefix}:outbox"

    @property
    def model(self) -> str:
        """Prefix of the shared model's keys: :stats, :reservoir, :applied, :recent."""
        return f"{self.prefix}:model"

    @property
    def suppressed(self) -> str:
        """Set: hashed ids of forgotten customers, whose later events are dropped."""
        return f"{self.prefix}:suppressed"

    @property
    def stats(self) -> str:
        """Hash: events, dlq, changes (running totals of all workers, for the dashboard)."""
        return f"{self.prefix}:stats"

    @property
    def recent_changes(self) -> str:
        """List: the newest change events as JSON, newest first, capped (the dashboard's feed)."""
        return f"{self.prefix}:recent-changes"

    @property
    def counts_history(self) -> str:
        """Hash: 10-second bucket (epoch s) -> JSON snapshot of counts and totals, last hour."""
        return f"{self.prefix}:counts-history"

    @property
    def imports(self) -> str:
        """Hash: CSV file fingerprint -> JSON of a finished ``streamapp import-csv`` run."""
        return f"{self.prefix}:imports"
