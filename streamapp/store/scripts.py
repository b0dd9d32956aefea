"""Lua scripts kept as ``.lua`` files beside this module, registered with a Redis client."""

from __future__ import annotations

from importlib.resources import files

from redis.commands.core import AsyncScript

from streamapp.store.client import RedisClient


def _source(name: str) -> str:
    return files("streamapp.store").joinpath(f"{name}.lua").read_text(encoding="utf-8")


def load_script(redis: RedisClient, name: str, *libraries: str) -> AsyncScript:
    """Register ``<name>.lua`` with ``redis``; calls go through EVALSHA and reload on NOSCRIPT.

    ``libraries`` (``.lua`` files of local functions) go first, in the same script: Redis runs
    each script alone, so code shared by several scripts travels with each of them.
    """
    return redis.register_script("\n".join([*map(_source, libraries), _source(name)]))
