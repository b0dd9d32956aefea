"""Audiences and RFM in the pipeline: evaluate customers, and build what the record step stores.

Shared by the batch path (customers with new events) and the timer path (customers whose
audiences time alone may change), so both record the same way.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import orjson

from streamapp.core.audiences import Audience
from streamapp.core.changes import segment_change
from streamapp.core.features import Counters, derive
from streamapp.core.membership import audience_moves, evaluate
from streamapp.core.rfm import RfmQuantiles, fields, rfm_values
from streamapp.core.windows import decode
from streamapp.store.profiles import AppliedCustomer, AudienceRecord, Profiles


@dataclass(frozen=True, slots=True)
class CustomerState:
    """What storage holds about a customer that audiences and RFM need."""

    customer_id: str
    counters: Counters
    windows: str
    traits: Mapping[str, str]
    audiences: tuple[str, ...]
    rfm_fields: str


def trait_names(audiences: Sequence[Audience]) -> list[str]:
    """The traits the audiences read, so storage returns only those."""
    return sorted({name.split(".", 1)[1] for a in audiences for name in a.rule.names
                   if name.startswith("traits.")})


class AudienceStep:
    """Evaluates audiences and RFM scores against the shared RFM histogram."""

    def __init__(self, audiences: Sequence[Audience], profiles: Profiles) -> None:
        self.profiles = profiles
        self.set_audiences(audiences)
        self.quantiles = RfmQuantiles()

    def set_audiences(self, audiences: Sequence[Audience]) -> None:
        """Replace the audience definitions (a reloaded file)."""
        self.audiences = list(audiences)
        self.trait_names = trait_names(self.audiences)
        self.reads_rfm = any(name.startswith("rfm.") for a in self.audiences
                             for name in a.rule.names)

    async def refresh(self) -> None:
        """Read the shared RFM histogram: scores rank a customer among all buyers.

        Only audiences need scores here (profiles score on read), so without an audience that
        reads ``rfm.*`` the batch saves the round trip.
        """
        if self.reads_rfm:
            self.quantiles = RfmQuantiles(await self.profiles.rfm_counts())

    def record_for(self, customer: CustomerState | AppliedCustomer, now_ms: int, *,
                   cause_message_id: str, event_time_ms: int, emitted_at_ms: int,
                   model_version: int) -> AudienceRecord:
        """What to store for ``customer``: audiences, RFM fields, next wake-up, change events."""
        if not self.audiences:
            # What ``evaluate`` gives without audiences, minus the scores and the condition
            # inputs nothing reads: a worker without an audiences file pays for RFM fields only.
            values = rfm_values(customer.counters)
            rfm_fields = ",".join(fields(values)) if values is not None else ""
            return AudienceRecord(customer.audiences, (), rfm_fields, None,
                                  self._changes(customer, (), now_ms, cause_message_id,
                                                event_time_ms, emitted_at_ms, model_version))
        m = evaluate(self.audiences, self.quantiles, customer.counters,
                     decode(customer.windows), customer.traits, now_ms)
        return AudienceRecord(customer.audiences, m.audiences, m.rfm_fields, m.next_due_ms,
                              self._changes(customer, m.audiences, now_ms, cause_message_id,
                                            event_time_ms, emitted_at_ms, model_version))

    @staticmethod
    def _changes(customer: CustomerState | AppliedCustomer, audiences: tuple[str, ...],
                 now_ms: int, cause_message_id: str, event_time_ms: int, emitted_at_ms: int,
                 model_version: int) -> tuple[tuple[str, bytes, str, int], ...]:
        moves = audience_moves(customer.audiences, audiences)
        if not moves:
            return ()
        changes = []
        features = derive(customer.counters, now_ms)
        for name, change in moves:
            entered = change == "entered"
            event = segment_change(
                customer.customer_id, name if entered else None, name if entered else None,
                None if entered else name, None if entered else name, model_version, features,
                event_time_ms=event_time_ms, emitted_at_ms=emitted_at_ms,
                cause_message_id=cause_message_id, kind="audience")
            changes.append((str(event["event_id"]), orjson.dumps(event), name,
                            1 if entered else -1))
        return tuple(changes)
