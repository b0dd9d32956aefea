"""``streamapp forget ID``: erase a customer (GDPR), keep their hashed id to drop later events.

The same happens when ``{"type": "forget", "userId": ID}`` arrives on the input topic; this
command is for operators at a shell. Both go through ``streamapp.store.forget``.
"""

from __future__ import annotations

import asyncio
import time

import typer
from redis.exceptions import RedisError
from rich.console import Console
from rich.markup import escape

from streamapp.cli.errors import EXPLAINED, fail
from streamapp.kafka import ServiceUnavailable
from streamapp.kafka.producer import KafkaPublisher
from streamapp.settings import get_settings
from streamapp.store.client import connect_redis
from streamapp.store.forget import ForgetResult
from streamapp.store.keys import Keys
from streamapp.store.profiles import ProfileStore

# The exit recorded by the command has this cause: forgetting twice yields the same event_id.
CAUSE = "forget"


async def _forget(customer_id: str) -> tuple[ForgetResult, ServiceUnavailable | None]:
    """Forget in Redis, then publish the ``exited`` event; (result, why it is not on Kafka)."""
    settings = get_settings()
    customer_id = settings.stored_customer_id(customer_id)
    # Built before anything is erased: a TLS file that cannot serve stops the command here.
    publisher = KafkaPublisher.from_settings(settings)
    redis = connect_redis(settings)
    try:
        profiles = ProfileStore(redis, Keys(settings.redis_prefix), settings.dedupe_window,
                                settings.customer_id_salt.get_secret_value())
        result = await profiles.forget(customer_id, CAUSE,
                                       int(time.time() * 1000))
        if result.exited_event_id is None or result.exited_change is None:
            return result, None
        try:
            async with publisher:
                key = customer_id.encode()
                await publisher.send_many([(key, result.exited_change)], settings.changes_topic)
        except ServiceUnavailable as error:
            return result, error  # still in the outbox: a worker publishes it when it drains
        await profiles.confirm_published([result.exited_event_id])
        return result, None
    finally:
        await redis.aclose()


def forget(
    customer_id: str = typer.Argument(..., metavar="ID", help="the customer id (userId)"),
) -> None:
    """Delete a customer's profile and every key derived from it, publish their exit.

    Their id is kept only as a keyed hash on a suppression list, so events that arrive later are
    dropped (and counted) instead of building a new profile.
    """
    try:
        result, unpublished = asyncio.run(_forget(customer_id))
    except EXPLAINED as exc:
        fail(str(exc))
    except RedisError as exc:
        fail(f"Redis did not answer ({exc}) — run `streamapp dev up` or set STREAMAPP_REDIS_URL")
    out = Console()
    what = "profile deleted" if result.existed else "no profile was stored"
    out.print(f"[green]✓[/] forgot customer {customer_id!r}: {what}; later events are dropped")
    if result.exited_event_id and unpublished is None:
        out.print("[green]✓[/] `exited` change event published")
    elif result.exited_event_id:
        out.print("[yellow]![/] the `exited` change event waits in the outbox, and a running "
                  f"worker publishes it; not sent now: {escape(str(unpublished))}")


def register(app: typer.Typer) -> None:
    """Add ``forget`` to the command line."""
    app.command("forget")(forget)
