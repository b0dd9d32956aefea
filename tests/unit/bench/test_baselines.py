"""Timing a contender by its group's committed offsets."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from aiokafka import TopicPartition
from aiokafka.errors import GroupCoordinatorNotAvailableError

from streamapp.bench.baselines import committed


class Admin:
    """Answers ``list_consumer_group_offsets`` from a list of replies, an error being raised."""

    def __init__(self, *replies: Any) -> None:
        self.replies = list(replies)

    async def list_consumer_group_offsets(self, group: str) -> Any:
        reply = self.replies.pop(0)
        if isinstance(reply, Exception):
            raise reply
        return reply


async def test_a_group_without_a_coordinator_yet_has_committed_nothing() -> None:
    offsets = {TopicPartition("events", 0): SimpleNamespace(offset=40),
               TopicPartition("events", 1): SimpleNamespace(offset=-1),
               TopicPartition("other", 0): SimpleNamespace(offset=7)}
    admin = Admin(GroupCoordinatorNotAvailableError(), offsets)
    assert await committed(admin, "g", "events") == 0  # type: ignore[arg-type]
    assert await committed(admin, "g", "events") == 40  # type: ignore[arg-type]
