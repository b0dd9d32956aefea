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

from typing import TypeAlias

from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster

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
    return Redis.from_url(settings.redis_dsn, **kwargs)
