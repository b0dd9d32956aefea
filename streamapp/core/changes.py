"""Change events: what a customer's move between segments looks like downstream.

The ``event_id`` is a hash of (customer, kind, segment, cause messageId), so re-emitting the same
change after a crash yields the same id and consumers can drop the second copy.

>>> c = segment_change("u1", "seg-2", "big", "seg-1", "small", 3, {"orders_total": 2},
...                    event_time_ms=86_400_000, emitted_at_ms=86_400_000, cause_message_id="m9")
>>> c["change"], c["previous_segment"], len(c["event_id"])
('moved', 'seg-1', 32)
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any, Literal, NamedTuple

from streamapp.core.features import iso

Kind = Literal["cluster", "audience"]


class ChangeNote(NamedTuple):
    """What Kafka's key and the worker's counters need of a change event, kept beside its JSON:
    decoding the JSON again for them cost more than building it.

    >>> ChangeNote("u1", "cluster", 86_400_000).customer_id
    'u1'
    """

    customer_id: str
    kind: Kind
    event_time_ms: int


def change_event_id(
    customer_id: str, kind: Kind, segment: str | None, cause_message_id: str
) -> str:
    """Deterministic id of one change.

    >>> a = change_event_id("u1", "cluster", "seg-1", "m1")
    >>> a == change_event_id("u1", "cluster", "seg-1", "m1")
    True
    >>> a == change_event_id("u1", "cluster", "seg-2", "m1")
    False
    """
    key = "\x1f".join((customer_id, kind, segment or "", cause_message_id))
    # SHA-1 because Redis scripts can compute it too (redis.sha1hex): apply_events.lua records
    # the exits of an identity merge itself. Ids need determinism, not collision resistance.
    return hashlib.sha1(key.encode()).hexdigest()[:32]


def segment_change(
    customer_id: str,
    segment: str | None,
    segment_name: str | None,
    previous_segment: str | None,
    previous_segment_name: str | None,
    model_version: int,
    features: Mapping[str, float | int | str | None],
    *,
    event_time_ms: int,
    emitted_at_ms: int,
    cause_message_id: str,
    kind: Kind = "cluster",
) -> dict[str, Any]:
    """A change event as published on ``segment-changes`` (see ``streamapp.events.SegmentChange``).

    ``entered`` when there was no previous segment, ``exited`` when there is no new one, else
    ``moved``.

    >>> segment_change("u1", "seg-1", "a", None, None, 1, {}, event_time_ms=1, emitted_at_ms=1,
    ...                cause_message_id="m")["change"]
    'entered'
    """
    if previous_segment is None:
        change = "entered"
    elif segment is None:
        change = "exited"
    else:
        change = "moved"
    return {
        # An exit names the segment left, so two exits caused by one event get two ids.
        "event_id": change_event_id(customer_id, kind,
                                    segment if segment is not None else f"-{previous_segment}",
                                    cause_message_id),
        "customer_id": customer_id,
        "kind": kind,
        "change": change,
        "segment": segment,
        "segment_name": segment_name,
        "previous_segment": previous_segment,
        "previous_segment_name": previous_segment_name,
        "model_version": model_version,
        "features": dict(features),
        "event_time": iso(event_time_ms),
        "emitted_at": iso(emitted_at_ms),
        "cause_message_id": cause_message_id,
    }
