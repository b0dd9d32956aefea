"""The segmentation model shared by every worker: sufficient statistics in Redis, merged by Lua.

Each worker learns a batch on its own cached copy (so it can assign customers at once), keeps
the batch's `ModelDelta`, and `save` merges the pending deltas into Redis in one atomic script
(``model_merge.lua``, the same rule as ``MiniBatchKMeans.apply_delta``). The script returns the
new version, and the whole shared state only when another worker merged in between: then the
worker refreshes its cached centres, weights, ids, scaler, recent points and drift bookkeeping;
its drift detector stays its own.

Keys, under ``Keys.model``: ``:stats`` (hash of the statistics), ``:reservoir`` (warm-start rows
until the centres exist), ``:recent`` (the last points, newest first) and ``:applied`` (ids of
the last merged deltas, so a merge retried after a lost reply is applied once). Only
`MiniBatchKMeans` is shared; other clusterers learn per worker and ``save`` leaves them alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

import orjson

from streamapp.core.model import MiniBatchKMeans
from streamapp.core.model_state import STATE_FORMAT, dump_state, load_state
from streamapp.store.client import RedisClient
from streamapp.store.keys import Keys
from streamapp.store.scripts import load_script


class ModelStates(Protocol):
    """Where the pipeline keeps the model; ``ModelStore`` or ``MemoryModelStore``."""

    async def load(self) -> dict[str, Any] | None: ...
    async def save(self, model: object) -> None: ...


class ModelStore:
    """The shared model in Redis: ``load`` its state, ``save`` (merge) what a worker learned."""

    def __init__(self, redis: RedisClient, keys: Keys) -> None:
        self.redis = redis
        self.stats_key = f"{keys.model}:stats"
        self.reservoir_key = f"{keys.model}:reservoir"
        self.applied_key = f"{keys.model}:applied"
        self.recent_key = f"{keys.model}:recent"
        self._merge = load_script(redis, "model_merge")

    @property
    def keys(self) -> list[str]:
        """Every key this store writes."""
        return [self.stats_key, self.reservoir_key, self.applied_key, self.recent_key]

    async def load(self) -> dict[str, Any] | None:
        """The shared state as ``MiniBatchKMeans.state_dict`` lays it out, None before any merge."""
        fields = await self.redis.hgetall(self.stats_key)
        if not fields:
            return None
        rows = await self.redis.lrange(self.reservoir_key, 0, -1)
        recent = await self.redis.lrange(self.recent_key, 0, -1)
        return state_from_fields(_decode(fields), _texts(rows), _texts(recent))

    async def save(self, model: object) -> None:
        """Merge the model's pending deltas into Redis; refresh it if another worker merged.

        Each delta goes to the script as two arguments, its JSON and its rows as raw doubles
        (``ModelDelta.packed_rows``). A model that is not a shared ``MiniBatchKMeans`` (another
        kind, or one not recording deltas) is left alone: it learns on this worker only.
        """
        if not isinstance(model, MiniBatchKMeans) or not model.pending:
            return
        deltas = list(model.pending)
        meta = {"params": dump_state(model)["params"],
                "feature_names": list(model.feature_names or ())}
        args: list[bytes | int] = [orjson.dumps(meta), model.version - len(deltas)]
        for delta in deltas:
            args += [orjson.dumps(delta.to_json()), delta.packed_rows()]
        reply = await self._merge(keys=self.keys, args=args)
        del model.pending[: len(deltas)]
        if len(reply) > 1:
            fields = _decode(dict(zip(reply[1][::2], reply[1][1::2], strict=True)))
            refresh(model, state_from_fields(fields, _texts(reply[2]), _texts(reply[3])))


class MemoryModelStore:
    """``ModelStore`` for one process: merges deltas into an in-memory copy (for unit tests)."""

    def __init__(self) -> None:
        self.shared: MiniBatchKMeans | None = None

    async def load(self) -> dict[str, Any] | None:
        return None if self.shared is None else self.shared.state_dict()

    async def save(self, model: object) -> None:
        if not isinstance(model, MiniBatchKMeans) or not model.pending:
            return
        if self.shared is None:
            self.shared = model.clone()
        for delta in model.pending:
            self.shared.apply_delta(delta)
        expected = model.version
        model.pending.clear()
        if self.shared.version != expected:
            refresh(model, self.shared.state_dict())


def refresh(model: MiniBatchKMeans, state: dict[str, Any]) -> None:
    """Take the shared state into a worker's cached model (its drift detector stays its own)."""
    load_state(model, {**state, "inertia": model.inertia})


def state_from_fields(
    fields: dict[str, str], reservoir: Sequence[str], recent: Sequence[str] = ()
) -> dict[str, Any]:
    """The ``state_dict`` of the model whose shared statistics are `fields` (the Redis hash).

    >>> fields = {"meta": '{"params": {"n_clusters": 1, "halflife": null}, "feature_names":'
    ...           ' ["a"]}', "version": "2", "seen": "3", "initialised": "1", "k": "1", "d": "1",
    ...           "ids": '["seg-1"]', "next_number": "2", "w": "3", "c": "1.5", "sw": "3",
    ...           "sm": "1.5", "sq": "0.75"}
    >>> state = state_from_fields(fields, [])
    >>> state["centres"], state["weights"], state["scaler"]["mean"], state["version"]
    ([[1.5]], [3.0], [1.5], 2)
    """
    meta = orjson.loads(fields["meta"])
    k, d = int(fields["k"]), int(fields["d"])
    centres = _numbers(fields.get("c", ""))
    halflife = meta["params"].get("halflife")
    return {
        "format": STATE_FORMAT,
        "params": meta["params"],
        "feature_names": meta["feature_names"] or None,
        "n_features": d,
        "version": int(fields["version"]),
        "initialised": fields.get("initialised") == "1",
        "centre_ids": orjson.loads(fields["ids"]),
        "next_number": int(fields["next_number"]),
        "weights": _numbers(fields.get("w", "")),
        "centres": [centres[j * d:(j + 1) * d] for j in range(k)],
        "reservoir": [_numbers(row) for row in reservoir],
        # The list is newest first; the model keeps its ring oldest first.
        "recent": [_numbers(row) for row in reversed(recent)],
        "scaler": {"halflife": halflife, "weight": float(fields.get("sw", 0.0)),
                   "mean": _numbers(fields.get("sm", "")), "m2": _numbers(fields.get("sq", ""))},
        "seen": int(float(fields.get("seen", 0))),
        "fast_until": int(float(fields.get("fast_until", 0))),
        "drifts": int(fields.get("drifts", 0)),
        "last_drift_version": _int_or_none(fields.get("last_drift_version")),
        "last_drift_seen": _int_or_none(fields.get("last_drift_seen")),
    }


def _numbers(text: str) -> list[float]:
    # Python's float() reads Lua's "%.17g" exactly, including "inf" and "-inf".
    return [float(value) for value in text.split(",")] if text else []


def _int_or_none(text: str | None) -> int | None:
    return int(float(text)) if text else None


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _texts(values: Sequence[bytes | str]) -> list[str]:
    return [_text(value) for value in values]


def _decode(fields: dict[Any, Any]) -> dict[str, str]:
    return {_text(key): _text(value) for key, value in fields.items()}

