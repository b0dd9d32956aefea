"""``streamapp worker``: run the segmentation worker (Faust agents and the web server)."""

from __future__ import annotations

import asyncio
import logging
import sys

import typer
from redis.asyncio import Redis
from redis.exceptions import (
    AuthenticationError,
    AuthenticationWrongNumberOfArgsError,
    NoPermissionError,
    RedisError,
)

from streamapp.cli.errors import EXPLAINED, fail
from streamapp.core.audiences import AudienceError
from streamapp.kafka import ServiceUnavailable
from streamapp.kafka.topics import ensure_topics, wait_for_kafka
from streamapp.pipeline.audience_file import AudienceFile
from streamapp.security import redis_client_kwargs
from streamapp.settings import Settings, get_settings
from streamapp.worker.supervisor import die_with_parent, supervise


async def check_redis(settings: Settings, timeout: float = 5.0) -> None:
    """Raise ``ServiceUnavailable`` with what to do when Redis does not answer a PING."""
    client = Redis.from_url(settings.redis_dsn, socket_connect_timeout=timeout,
                            socket_timeout=timeout, **redis_client_kwargs(settings))
    try:
        await client.ping()
    except (AuthenticationError, AuthenticationWrongNumberOfArgsError, NoPermissionError):
        # Retrying cannot fix credentials: say so now rather than back off for ever.
        raise ServiceUnavailable(
            "Redis rejected the credentials — check the password or ACL user in "
            "STREAMAPP_REDIS_URL, STREAMAPP_REDIS_USERNAME and STREAMAPP_REDIS_PASSWORD"
        ) from None
    except RedisError as exc:
        where = client.connection_pool.connection_kwargs.get("host", "?")
        port = client.connection_pool.connection_kwargs.get("port", "?")
        raise ServiceUnavailable(
            f"Redis at {where}:{port} did not answer ({exc}) — run `streamapp dev up` "
            "or set STREAMAPP_REDIS_URL"
        ) from None
    finally:
        await client.aclose()


async def preflight(settings: Settings) -> None:
    """Fail fast, with a clear message, when Kafka or Redis is missing; create the topics."""
    await wait_for_kafka(settings)
    await check_redis(settings)
    await ensure_topics(settings)


def run(
    loglevel: str = typer.Option("warning", help="debug, info, warning or error"),
    restart: bool = typer.Option(
        True, "--restart/--no-restart",
        help="start the worker process again when an outage of Kafka or Redis stopped it "
             "(--no-restart when systemd, Kubernetes or another supervisor does that)"),
    supervised: bool = typer.Option(False, "--supervised", hidden=True),
) -> None:
    """Consume customer events, keep profiles in Redis and publish segment changes.

    Serves the HTTP API on STREAMAPP_WEB_PORT (default 6066). Stop with Ctrl-C.
    """
    settings = get_settings()
    if supervised:
        die_with_parent()
    try:
        AudienceFile(settings.audiences_file).load()
    except AudienceError as exc:
        fail(f"{exc} (in STREAMAPP_AUDIENCES_FILE={settings.audiences_file})")
    try:
        # At start a missing service is most likely a wrong address: say so at once. Under the
        # supervisor it is an outage, which the supervisor waits out.
        asyncio.run(preflight(settings))
    except EXPLAINED as exc:
        fail(str(exc))
    if restart and not supervised:
        logging.basicConfig(format="[%(asctime)s] [%(process)d] [%(levelname)s] %(message)s")
        command = [sys.executable, "-m", "streamapp", "worker", "--loglevel", loglevel,
                   "--supervised"]
        raise typer.Exit(code=supervise(command))
    # Imported here: faust is slow to import and no other command needs it.
    from streamapp.worker.app import create_app, run_faust

    logging.getLogger("streamapp").setLevel(loglevel.upper())
    run_faust(create_app(settings), loglevel)


def register(app: typer.Typer) -> None:
    """Add ``worker`` to the command line."""
    app.command("worker")(run)
