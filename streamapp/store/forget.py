"""Forgetting a customer (GDPR erasure): one script call deletes every trace and records the exit.

What is kept is the customer's *hashed* id on a suppression list, so events that arrive later (a
producer that has not heard yet, a replay of the topic) are dropped and counted instead of
building a new profile. The ``exited`` change event goes through the outbox like every other change,
so downstream tools hear of it even when the process dies right after.

Change events already on Kafka stay as the topic's retention keeps them; see the README.
"""

from __future__ import annotations

from dataclasses import dataclass

import orjson

from streamapp.core.changes import Kind, segment_change
from streamapp.store.client import RedisClient
from streamapp.store.keys import Keys
from streamapp.store.scripts import load_script

# A segment that moves under us is re-read and the step retried; more than a few moves in a row
# would mean a worker rewriting this customer continuously, which forget cannot outrun anyway.
MAX_ATTEMPTS = 5


@dataclass(frozen=True, slots=True)
class ForgetResult:
    """What one forget did: whether a profile existed, and the change event it recorded."""

    existed: bool
    pending_removed: int
    exited_event_id: str | None
    exited_change: bytes | None


def exited_change(customer_id: str, segment: str, cause_message_id: str,
                  time_ms: int, kind: Kind = "cluster") -> dict[str, object]:
    """The ``exited`` event of a forgotten customer: no features, nothing learned about them.

    >>> c = exited_change("u1", "seg-2", "forget", 0)
    >>> c["change"], c["previous_segment"], c["segment"], c["features"]
    ('exited', 'seg-2', None, {})
    """
    return segment_change(customer_id, None, None, segment, None, 0, {},
                          event_time_ms=time_ms, emitted_at_ms=time_ms,
                          cause_message_id=cause_message_id, kind=kind)


class Forgetter:
    """Runs ``forget.lua`` for one customer at a time."""

    def __init__(self, redis: RedisClient, keys: Keys) -> None:
        self.redis = redis
        self.keys = keys
        self._script = load_script(redis, "forget", "packing")

    async def forget(self, customer_id: str, hashed_id: str, cause_message_id: str,
                     time_ms: int) -> ForgetResult:
        """Delete the customer's profile and pending changes, decrement counts, record the exit."""
        k = self.keys
        keys = [k.profile(customer_id), k.cluster_counts, k.outbox, k.meta, k.suppressed,
                k.recent_changes, k.audience_counts, k.rfm, k.due]
        for _ in range(MAX_ATTEMPTS):
            raw_segment, raw_audiences = await self.redis.hmget(k.profile(customer_id), "s", "au")
            segment = _text(raw_segment)
            audiences = _text(raw_audiences)
            event_id, change = None, b""
            if segment:
                built = exited_change(customer_id, segment, cause_message_id, time_ms)
                event_id, change = str(built["event_id"]), orjson.dumps(built)
            args: list[str | bytes] = [customer_id, hashed_id, segment, event_id or "", change,
                                       audiences]
            for audience in filter(None, audiences.split(",")):
                left = exited_change(customer_id, audience, cause_message_id, time_ms,
                                     kind="audience")
                args += [str(left["event_id"]), orjson.dumps(left)]
            result = await self._script(keys=keys, args=args)
            if int(result[0]) >= 0:
                return ForgetResult(bool(int(result[0])), int(result[1]), event_id,
                                    change or None)
        raise RuntimeError(
            f"the segment of the customer kept changing during {MAX_ATTEMPTS} attempts to forget "
            "them; stop the producer of their events and retry"
        )


def _text(value: bytes | str | None) -> str:
    return value.decode() if isinstance(value, bytes) else (value or "")
