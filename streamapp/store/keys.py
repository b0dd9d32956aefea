"""Where things live in Redis: every key name streamapp uses, in one place.

Profiles are one hash per customer, and the largest part of Redis: at 100,000s of customers each
byte of a profile is paid once per customer (docs/BENCHMARKS.md). So field names are short,
``FIELDS`` maps them to the names the rest of the code and the profile contract use, and values
are kept small: numbers as decimal integers, which Redis' compact hash encoding (a listpack)
stores as 1 to 9 byte integers, a number that is 0 not at all, and the fields only streamapp
reads packed (``streamapp.store.packing``). A profile stays a listpack only while every value is
at most 64 bytes (Redis' ``hash-max-listpack-value``); one longer value turns the whole hash into
a hash table, several times the size.

Every key starts with the prefix in braces, ``{sa}:...``: Redis Cluster hashes only the part in
braces (a hash tag), so all keys of one deployment live in one slot and every script call, which
touches a batch's profiles and the shared counts together, stays on one node. On a single server
the braces are just part of the name (docs/SCALING.md).

>>> k = Keys("sa")
>>> k.profile("u1"), k.cluster_counts, k.customer_id("{sa}:p:u1")
('{sa}:p:u1', '{sa}:counts:cluster', 'u1')
>>> trait_field("country"), trait_name("tc"), trait_field("email")
('tc', 'country', 't:email')
"""

from __future__ import annotations

from dataclasses import dataclass

# profile-hash field -> meaning; a number field that is absent is 0.
FIELDS = {
    "<partition>": "offset of the last applied event of that partition; the name is the bare "
                   "partition number, which the listpack stores as a 1-byte integer",
    "d": "fingerprints of the most recent messageIds (streamapp.core.facts), newest first, "
         "6 raw bytes each (a dedupe window of up to 10 fits in a listpack value)",
    "e": "events_total",
    "n": "orders_total",
    "r": "revenue in cents",
    "v": "page_views",
    "f": "first_seen (epoch ms)",
    "l": "last_seen (epoch ms)",
    "lo": "last_order (epoch ms)",
    "s": "segment id",
    "S": "segment since, as ms before last_seen (the segment usually changes at the newest "
         "event: then 0, and absent)",
    "W": "daily order buckets of the last 90 days (streamapp.core.windows), packed",
    "au": "audiences the customer is in, comma separated",
    "R": "the customer's RFM histogram fields (streamapp.core.rfm.fields), packed",
    "a": "offset of an applied event whose segment is not assigned yet (crash recovery)",
    "t<letter>": "an allowlisted trait (TRAIT_FIELDS)",
}
# Fields holding bytes rather than text: any byte value may occur in them.
BINARY_FIELDS = ("d", "W", "R")

# Trait name -> field. Every trait field starts with "t" and no other field does, so the scripts
# can tell them apart (an identity merge copies the traits). A trait name costs its length once
# per customer who has it: "t:country" took 9 bytes, "tc" takes 2.
TRAIT_FIELDS = {
    "age": "ta", "city": "ty", "country": "tc", "gender": "tg", "industry": "ti",
    "language": "tl", "plan": "tp", "region": "tr", "timezone": "tz",
}
_TRAIT_NAMES = {field: name for name, field in TRAIT_FIELDS.items()}
# Audience rules may name a trait that is not on the allowlist; it is never stored, and its field
# only has to be one no allowlisted trait uses.
_OTHER_TRAIT_PREFIX = "t:"


def trait_field(name: str) -> str:
    """The profile field of trait ``name``."""
    return TRAIT_FIELDS.get(name, _OTHER_TRAIT_PREFIX + name)


def trait_name(field: str) -> str | None:
    """The trait stored in ``field``, or None when the field is not a trait."""
    return _TRAIT_NAMES.get(field)


@dataclass(frozen=True)
class Keys:
    """Key names under one prefix, so several deployments can share a Redis."""

    prefix: str = "streamapp"

    def __post_init__(self) -> None:
        # An empty tag, or one a "}" ends early, would leave keys hashed by their whole name:
        # a deployment's keys would scatter over slots and every script would fail on a cluster.
        if not self.prefix or "{" in self.prefix or "}" in self.prefix:
            raise ValueError(f"the Redis key prefix {self.prefix!r} must be non-empty and "
                             "without braces (STREAMAPP_REDIS_PREFIX)")

    @property
    def root(self) -> str:
        """The start of every key: the prefix as a hash tag, ``{prefix}``."""
        return "{" + self.prefix + "}"

    @property
    def pattern(self) -> str:
        """SCAN pattern of every key of the deployment."""
        return f"{self.root}:*"

    def profile(self, customer_id: str) -> str:
        return f"{self.root}:p:{customer_id}"

    @property
    def profile_pattern(self) -> str:
        return f"{self.root}:p:*"

    def customer_id(self, profile_key: bytes | str) -> str:
        """The customer id of a profile key (as SCAN returns it)."""
        key = profile_key.decode() if isinstance(profile_key, bytes) else profile_key
        return key[len(self.profile("")):]

    @property
    def meta(self) -> str:
        """Hash: watermark (epoch ms), customers (count of profiles)."""
        return f"{self.root}:meta"

    @property
    def cluster_counts(self) -> str:
        """Hash: segment id -> number of customers in it."""
        return f"{self.root}:counts:cluster"

    @property
    def aliases(self) -> str:
        """Hash: an id merged into another (alias, identify) -> the id it now lives under."""
        return f"{self.root}:aliases"

    @property
    def audience_counts(self) -> str:
        """Hash: audience name -> number of customers in it."""
        return f"{self.root}:counts:audience"

    @property
    def rfm(self) -> str:
        """Hash: RFM histogram field (streamapp.core.rfm.fields) -> number of buyers."""
        return f"{self.root}:rfm"

    @property
    def due(self) -> str:
        """Sorted set: customer id -> when time alone may change its audiences (epoch ms)."""
        return f"{self.root}:due"

    @property
    def outbox(self) -> str:
        """Hash: event_id -> change event JSON recorded but not yet confirmed by Kafka."""
        return f"{self.root}:outbox"

    @property
    def model(self) -> str:
        """Prefix of the shared model's keys: :stats, :reservoir, :applied, :recent."""
        return f"{self.root}:model"

    @property
    def suppressed(self) -> str:
        """Set: hashed ids of forgotten customers, whose later events are dropped."""
        return f"{self.root}:suppressed"

    @property
    def stats(self) -> str:
        """Hash: events, dlq, changes (running totals of all workers, for the dashboard)."""
        return f"{self.root}:stats"

    @property
    def recent_changes(self) -> str:
        """List: the newest change events as JSON, newest first, capped (the dashboard's feed)."""
        return f"{self.root}:recent-changes"

    @property
    def counts_history(self) -> str:
        """Hash: 10-second bucket (epoch s) -> JSON snapshot of counts and totals, last hour."""
        return f"{self.root}:counts-history"

    @property
    def imports(self) -> str:
        """Hash: CSV file fingerprint -> JSON of a finished ``streamapp import-csv`` run."""
        return f"{self.root}:imports"
