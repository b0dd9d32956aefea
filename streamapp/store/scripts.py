"""Lua scripts kept as ``.lua`` files beside this module, registered with a Redis client."""

from __future__ import annotations

from importlib.resources import files

from redis.asyncio import Redis
from redis.commands.core import AsyncScript


def load_script(redis: Redis, name: str) -> AsyncScript:
    """Register ``<name>.lua`` with ``redis``; calls go through EVALSHA and reload on NOSCRIPT."""
    source = files("streamapp.store").joinpath(f"{name}.lua").read_text(encoding="utf-8")
    return redis.register_script(source)
