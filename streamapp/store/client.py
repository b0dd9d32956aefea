"""The Redis client: one server or a Redis Cluster, made in one place from the settings.

Everything streamapp sends works on both: every key of a deployment carries the same hash tag
(``streamapp.store.keys``), so each script call, pipeline and command names keys of one slot,
which the cluster client routes to the node that owns it. SCAN is the exception that spans
nodes; the cluster client's ``scan_iter`` walks every primary in turn.

``STREAMAPP_REDIS_CLUSTER`` says which client to make rather than a probe of the server: the
client is made without a round trip (commands make it before Redis may even be up), and a
setting is what an operator can see. ``streamapp worker`` checks the setting against the server
at start and says what to set when they disagree (``cli/worker.py``).
"""

from __future__ import annotations

from typing import Any, TypeAlias

import hiredis
from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster
from redis.asyncio.connection import AbstractConnection

from streamapp.security import redis_client_kwargs
from streamapp.settings import Settings

RedisClient: TypeAlias = Redis | RedisCluster


def connect_redis(settings: Settings, socket_timeout: float = 10,
                  socket_connect_timeout: float = 5,
                  health_check_interval: float = 15) -> RedisClient:
    """A client for ``settings.redis_url`` with timeouts, so an outage errors, not hangs.

    With ``redis_cluster`` the URL names any one node; the client learns the others from it.
    ACL user, password and TLS files come from the security settings (``streamapp.security``).

    >>> type(connect_redis(Settings(_env_file=None))).__name__
    'Redis'
    >>> type(connect_redis(Settings(_env_file=None, redis_cluster=True))).__name__
    'RedisCluster'
    """
    kwargs = {"socket_timeout": socket_timeout, "socket_connect_timeout": socket_connect_timeout,
              "health_check_interval": health_check_interval, **redis_client_kwargs(settings)}
    if settings.redis_cluster:
        return RedisCluster.from_url(settings.redis_dsn, **kwargs)
    client = Redis.from_url(settings.redis_dsn, **kwargs)
    pool = client.connection_pool
    pool.connection_class = _packed_by_hiredis(pool.connection_class)
    return client


def _packed_by_hiredis(base: type[AbstractConnection]) -> type[AbstractConnection]:
    """``base`` (TCP, TLS or Unix socket) with commands packed by hiredis.

    redis-py's asyncio connections pack a command in Python, argument by argument: for a script
    call naming a batch's hundreds of keys that was a tenth of the worker's time. hiredis, which
    already parses the replies, packs in C.
    """

    class Packed(base):  # type: ignore[valid-type,misc]  # a class made from a runtime value
        def pack_command(self, *args: Any) -> list[bytes]:
            # redis-py sends some commands' names as one string ("CONFIG GET"), split here.
            if isinstance(args[0], str) and " " in args[0]:
                args = (*args[0].split(), *args[1:])
            return [hiredis.pack_command(args)]

    Packed.__name__ = Packed.__qualname__ = f"HiredisPacked{base.__name__}"
    return Packed
