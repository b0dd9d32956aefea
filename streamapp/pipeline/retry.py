"""Waiting out an outage: retry a step with capped exponential backoff until it succeeds.

A worker that gives up on Redis or Kafka would either crash in a loop or, worse, move past
events it has not applied; it waits instead, and says so through ``Health``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from aiokafka.errors import KafkaError
from redis.exceptions import BusyLoadingError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

log = logging.getLogger("streamapp.worker")
T = TypeVar("T")

TRANSIENT = (RedisConnectionError, RedisTimeoutError, BusyLoadingError, KafkaError, OSError)


@dataclass
class Health:
    """What ``/readyz`` reports: whether the last step reached its services."""

    degraded_reason: str | None = None

    @property
    def ready(self) -> bool:
        return self.degraded_reason is None


async def retry_transient(
    step: Callable[[], Awaitable[T]], what: str, health: Health,
    first_delay: float = 0.2, max_delay: float = 10.0,
) -> T:
    """Run ``step`` until it succeeds; transient service errors are retried, others raised."""
    delay = first_delay
    while True:
        try:
            result = await step()
        except TRANSIENT as exc:
            health.degraded_reason = f"{what}: {type(exc).__name__}: {exc}"
            log.warning("%s failed (%s); retrying in %.1f s", what, exc, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, max_delay)
        else:
            health.degraded_reason = None
            return result
