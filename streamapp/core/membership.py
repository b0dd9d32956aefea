"""Which audiences a customer is in, their RFM score, and when time alone could change that.

One call per customer per batch (or per timer wake-up): the pipeline hands in what storage holds
and gets back what to record.

>>> from streamapp.core.audiences import parse_audiences
>>> from streamapp.core.features import DAY_MS, Counters
>>> audiences = parse_audiences('''
... audiences:
...   - {name: buyers, condition: "orders_total >= 1"}
...   - {name: at_risk, condition: "orders_total >= 1 and days_since_last_order > 60"}
... ''')
>>> c = Counters(events_total=1, orders_total=1, revenue_cents=900, first_seen_ms=DAY_MS,
...              last_seen_ms=DAY_MS, last_order_ms=DAY_MS)
>>> m = evaluate(audiences, RfmQuantiles(), c, (), {}, now_ms=2 * DAY_MS)
>>> m.audiences, m.rfm_fields, 60 < (m.next_due_ms - DAY_MS) / DAY_MS < 60.01
(('buyers',), 'r:1,f:0,m:47', True)
>>> evaluate(audiences, RfmQuantiles(), c, (), {}, now_ms=62 * DAY_MS).audiences
('buyers', 'at_risk')
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from streamapp.core.audiences import Audience, customer_env, memberships
from streamapp.core.features import Counters
from streamapp.core.rfm import RfmQuantiles, RfmScore, fields, rfm_values
from streamapp.core.transitions import next_transition
from streamapp.core.windows import Buckets


# Not frozen, as EventFact (streamapp.core.facts): one is built per customer and batch.
@dataclass(slots=True)
class Membership:
    """A customer's audiences and RFM as of one instant."""

    audiences: tuple[str, ...]
    rfm: RfmScore | None
    rfm_fields: str  # the customer's RFM histogram fields, comma separated ("" for non-buyers)
    next_due_ms: int | None  # when to look again with no new events; None: never needed


def evaluate(
    audiences: Sequence[Audience],
    quantiles: RfmQuantiles,
    counters: Counters,
    buckets: Buckets,
    traits: Mapping[str, str],
    now_ms: int,
) -> Membership:
    """Audiences, RFM and the next wake-up of one customer."""
    values = rfm_values(counters)
    score = quantiles.score(values) if values is not None else None
    env = customer_env(counters, now_ms, buckets, traits, score) if audiences else {}
    due = [
        t for a in audiences if a.rule.time_dependent
        if (t := next_transition(a.rule, counters, now_ms, buckets, traits, score, env=env))
        is not None
    ]
    return Membership(
        audiences=tuple(memberships(audiences, env)),
        rfm=score,
        rfm_fields=",".join(fields(values)) if values is not None else "",
        next_due_ms=min(due) if due else None,
    )


def audience_moves(before: Sequence[str], after: Sequence[str]) -> list[tuple[str, str]]:
    """(audience, "entered" | "exited") for every difference, exits first.

    >>> audience_moves(["a", "b"], ["b", "c"])
    [('a', 'exited'), ('c', 'entered')]
    """
    gone = [(name, "exited") for name in before if name not in after]
    return gone + [(name, "entered") for name in after if name not in before]
