"""``streamapp worker``: run the segmentation worker (Faust agents and the web server)."""

from __future__ import annotations

import asyncio
import logging
import sys
from urllib.parse import urlsplit

import typer
from redis.exceptions import (
    AuthenticationError,
    AuthenticationWrongNumberOfArgsError,
    NoPermissionError,
    RedisClusterException,
    RedisError,
)

from streamapp.cli.errors import EXPLAINED, fail
from streamapp.core.audiences import AudienceError
from streamapp.kafka import ServiceUnavailable
from streamapp.kafka.topics import ensure_topics, wait_for_kafka
from streamapp.pipeline.audience_file import AudienceFile
from streamapp.settings import Settings, get_settings
from streamapp.store.client import RedisClient, connect_redis
from streamapp.worker.supervisor import die_with_parent, supervise


async def check_redis(settings: Settings, timeout: float = 5.0) -> None:
    """Raise ``ServiceUnavailable`` with what to do when Redis does not answer a PING, or is
    a cluster node while STREAMAPP_REDIS_CLUSTER says otherwise (or the other way round)."""
    client = connect_redis(settings, socket_timeout=timeout, socket_connect_timeout=timeout,
                           health_check_interval=0)
    try:
        await client.ping()
        if not settings.redis_cluster and await _is_cluster_node(client):
            raise ServiceUnavailable(
                f"Redis at {_where(settings)} is a node of a Redis Cluster — set "
                "STREAMAPP_REDIS_CLUSTER=true")
    except (AuthenticationError, AuthenticationWrongNumberOfArgsError, NoPermissionError):
        # Retrying cannot fix credentials: say so now rather than back off for ever.
        raise ServiceUnavailable(
            "Redis rejected the credentials — check the password or ACL user in "
            "STREAMAPP_REDIS_URL, STREAMAPP_REDIS_USERNAME and STREAMAPP_REDIS_PASSWORD"
        ) from None
    except RedisClusterException as exc:
        # The cluster client's own error: no node answered, or the node is no cluster.
        raise ServiceUnavailable(
            f"Redis Cluster at {_where(settings)} could not be used ({exc}) — check "
            "STREAMAPP_REDIS_URL, or set STREAMAPP_REDIS_CLUSTER=false for a single server"
        ) from None
    except RedisError as exc:
        raise ServiceUnavailable(
            f"Redis at {_where(settings)} did not answer ({exc}) — run `streamapp dev up` "
            "or set STREAMAPP_REDIS_URL"
        ) from None
    finally:
        await client.aclose()


async def _is_cluster_node(client: RedisClient) -> bool:
    try:
        info = await client.info("cluster")
    except NoPermissionError:
        return False  # INFO is a "dangerous" command an ACL user may lack; then trust the setting
    return isinstance(info, dict) and bool(info.get("cluster_enabled"))


def _where(settings: Settings) -> str:
    """Host and port of the URL, without the password it may carry (a socket's path for unix)."""
    url = urlsplit(settings.redis_dsn)
    try:
        port = str(url.port or 6379)
    except ValueError:  # a port that is not a number: the client's error says more
        port = "?"
    return url.path if url.scheme == "unix" else f"{url.hostname or '?'}:{port}"


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
