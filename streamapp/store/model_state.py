"""The segmentation model's state in Redis, as one JSON document every worker can read."""

from __future__ import annotations

from typing import Any, Protocol

import orjson
from redis.asyncio import Redis

from streamapp.store.keys import Keys


class ModelStates(Protocol):
    """Where the pipeline keeps the model's state; ``ModelStore`` or an in-memory fake."""

    async def load(self) -> dict[str, Any] | None: ...
    async def save(self, state: dict[str, Any]) -> None: ...


class ModelStore:
    """Load and save the model's ``state_dict``."""

    def __init__(self, redis: Redis, keys: Keys) -> None:
        self.redis = redis
        self.keys = keys

    async def load(self) -> dict[str, Any] | None:
        """The saved state, or None before the first save."""
        raw = await self.redis.get(self.keys.model)
        return orjson.loads(raw) if raw else None

    async def save(self, state: dict[str, Any]) -> None:
        """Replace the saved state."""
        await self.redis.set(self.keys.model, orjson.dumps(state, option=orjson.OPT_SERIALIZE_NUMPY))
