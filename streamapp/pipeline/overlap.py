"""Two batches at once: the next batch's events go to Redis while the one before is assigned.

A batch passes four stages: its events are applied to the profiles in Redis, its customers are
assigned segments and audiences (the model learns, here in the worker), their changes are
recorded in Redis, and the change events are queued for Kafka. Done one batch after the other,
the worker waits while Redis applies and records, and Redis waits while the worker assigns: at
the small batches of a live stream that was half of each batch's time. So the next batch is
applied as soon as the one before is (``Milestones.follow``), and each stage of a batch waits for
the same stage of the batch before it: the model learns, Redis records and Kafka receives in
batch order, as before.

Applying a batch before the one ahead of it is recorded is only safe when neither touches what
the other reads: ``overlappable`` asks that they share no customer and that neither merges nor
forgets one. A customer stored under another id (an alias of an earlier merge) is caught by the
apply script itself, which then writes nothing; the batch is applied again once the one before
is recorded.
"""

from __future__ import annotations

import asyncio
from collections.abc import Collection

from streamapp.core.facts import EventFact

STAGES = ("applied", "assigned", "recorded", "queued")


class BatchAbandoned(Exception):
    """The batch before this one failed, so this one cannot go on in order."""


class Milestones:
    """How far one batch has got; the batch begun after it waits on these.

    >>> async def demo():
    ...     first, second = Milestones(), Milestones(before=None)
    ...     first.reach("applied")
    ...     await first.wait("applied")
    ...     first.fail(RuntimeError("Redis said no"))
    ...     try:
    ...         await first.wait("recorded")
    ...     except BatchAbandoned as exc:
    ...         return repr(exc.__cause__)
    >>> asyncio.run(demo())
    "RuntimeError('Redis said no')"
    """

    def __init__(self, before: Milestones | None = None) -> None:
        self.before = before  # dropped once recorded: the chain of batches stays two long
        self.ids: Collection[str] = ()  # where its profiles are stored, once applied
        self.failed: BaseException | None = None
        self._reached = {stage: asyncio.Event() for stage in STAGES}

    def reach(self, stage: str) -> None:
        """Mark ``stage`` as done."""
        self._reached[stage].set()
        if stage == "recorded":
            self.before = None

    def reach_all(self) -> None:
        """Mark every stage done: the batch was skipped (the worker is stopping) or is over."""
        for stage in STAGES:
            self.reach(stage)

    def fail(self, exc: BaseException) -> None:
        """The batch failed: whoever waits on it gets :class:`BatchAbandoned`."""
        self.failed = exc
        self.reach_all()

    def reached(self, stage: str) -> bool:
        """Whether ``stage`` is done (or the batch failed)."""
        return self._reached[stage].is_set()

    async def wait(self, stage: str) -> None:
        """Until this batch has done ``stage``; raise :class:`BatchAbandoned` if it failed."""
        await self._reached[stage].wait()
        if self.failed is not None:
            raise BatchAbandoned(f"the batch before failed at {stage}") from self.failed

    async def follow(self) -> None:
        """Until the next batch may be applied behind this one: this one is applied and the
        one before it recorded, so at most two batches are between applied and recorded."""
        await self.wait("applied")
        before = self.before
        if before is not None:
            await before.wait("recorded")


def touches_others(facts: Collection[EventFact]) -> bool:
    """Whether applying these facts changes a profile other than their customers' own (a merge
    removes the profile it merges from).

    >>> touches_others([EventFact("u1", 0, 1, "m1", 5)])
    False
    >>> touches_others([EventFact("u1", 0, 1, "m1", 5, merges_from="anon-7")])
    True
    """
    return any(fact.merges_from is not None for fact in facts)
