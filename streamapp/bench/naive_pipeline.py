"""Baseline (b) of ``streamapp bench throughput``: the pipeline written the way tutorials do.

One event at a time: one Redis round trip per feature (``HINCRBY`` and friends, then ``HGETALL``
to read the profile back), River's ``cluster.KMeans`` ``learn_one``/``predict_one`` per event,
and one awaited send per change event. It keeps the same features as the worker, without its
idempotence, so it is the cost of the obvious design, not a straw man: every call is what a
tutorial shows. Run as its own process::

    STREAMAPP_EVENTS_TOPIC=... STREAMAPP_APP_ID=... python -m streamapp.bench.naive_pipeline
"""

from __future__ import annotations

import math
from typing import Any

import faust
import orjson
from river import cluster

from streamapp.settings import Settings
from streamapp.store.client import connect_redis
from streamapp.store.keys import Keys
from streamapp.worker.app import faust_app, run_faust


def features_of(profile: dict[bytes, bytes]) -> dict[str, float]:
    """The model's input, from the stored profile (log scaling, as the worker's features).

    >>> features_of({b"events_total": b"3", b"revenue_total": b"50.0"})["activity"]
    1.3862943611198906
    """
    def number(name: str) -> float:
        return float(profile.get(name.encode(), b"0"))

    return {"monetary": math.log1p(number("revenue_total")),
            "frequency": math.log1p(number("orders_total")),
            "activity": math.log1p(number("events_total")),
            "browsing": math.log1p(number("page_views"))}


def create_naive_app(settings: Settings) -> faust.App:
    """A Faust app whose agent processes every event on its own."""
    app, events = faust_app(settings, web_enabled=False)
    redis: Any = connect_redis(settings)
    root = Keys(settings.redis_prefix).root
    model: Any = cluster.KMeans(n_clusters=settings.n_segments, seed=settings.model_seed)

    @app.agent(events)
    async def naive(stream: Any) -> None:
        async for value in stream:
            event = orjson.loads(value)
            customer = event.get("userId") or event.get("anonymousId")
            key = f"{root}:naive:{customer}"
            when = event.get("timestamp", "")
            await redis.hincrby(key, "events_total", 1)
            await redis.hsetnx(key, "first_seen_at", when)
            await redis.hset(key, "last_seen_at", when)
            if event["type"] in ("page", "screen"):
                await redis.hincrby(key, "page_views", 1)
            if event.get("event") == "Order Completed":
                revenue = float(event.get("properties", {}).get("revenue", 0))
                await redis.hincrby(key, "orders_total", 1)
                await redis.hincrbyfloat(key, "revenue_total", revenue)
                await redis.hset(key, "last_order_at", when)
            x = features_of(await redis.hgetall(key))
            model.learn_one(x)
            segment = f"seg-{model.predict_one(x)}"
            previous = await redis.hget(key, "segment")
            if previous is None or previous.decode() != segment:
                await redis.hset(key, "segment", segment)
                change = {"customer_id": customer, "segment": segment,
                          "previous_segment": previous.decode() if previous else None,
                          "cause_message_id": event.get("messageId")}
                await app.producer.send_and_wait(settings.changes_topic, customer.encode(),
                                                 orjson.dumps(change), None, None, None)

    return app


def main() -> None:
    """Run the naive pipeline until terminated."""
    app = create_naive_app(Settings())
    run_faust(app)


if __name__ == "__main__":
    main()
