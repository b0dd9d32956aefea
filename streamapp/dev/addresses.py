"""Where the local services listen, read from the settings' Kafka bootstrap string and Redis URL.

``streamapp dev up`` serves each service at the first address its setting names, so these helpers
turn ``"127.0.0.1:9092,other:9092"`` or ``"redis://:pw@127.0.0.1:6379/0"`` into a host and a port.
"""

from __future__ import annotations

import ipaddress
from typing import NamedTuple
from urllib.parse import urlsplit

from streamapp.dev.errors import ServiceError

KAFKA_DEFAULT_PORT = 9092
REDIS_DEFAULT_PORT = 6379


class Address(NamedTuple):
    """A TCP endpoint.

    >>> str(Address("127.0.0.1", 9092)), str(Address("::1", 6379))
    ('127.0.0.1:9092', '[::1]:6379')
    """

    host: str
    port: int

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"


def kafka_address(bootstrap: str) -> Address:
    """The first server of a Kafka bootstrap string.

    >>> kafka_address("127.0.0.1:9092,10.0.0.2:9092")
    Address(host='127.0.0.1', port=9092)
    >>> kafka_address("localhost")
    Address(host='localhost', port=9092)
    >>> kafka_address("[::1]:19092")
    Address(host='::1', port=19092)
    >>> kafka_address("127.0.0.1:http")
    Traceback (most recent call last):
    ...
    streamapp.dev.errors.ServiceError: STREAMAPP_KAFKA_BOOTSTRAP: '127.0.0.1:http' is not host:port
    """
    first = bootstrap.split(",")[0].strip()
    if "://" in first:  # clients accept "PLAINTEXT://host:port" too
        first = first.split("://", 1)[1]
    try:
        parts = urlsplit(f"//{first}")
        host, port = parts.hostname, parts.port
    except ValueError:  # a port that is not a number
        host, port = None, None
    if not host:
        raise ServiceError(f"STREAMAPP_KAFKA_BOOTSTRAP: {first!r} is not host:port")
    return Address(host, port or KAFKA_DEFAULT_PORT)


def controller_address(kafka: Address) -> Address:
    """Where the dev broker's KRaft controller listens: the next port after the client port.

    >>> controller_address(Address("127.0.0.1", 9092))
    Address(host='127.0.0.1', port=9093)
    """
    if kafka.port >= 65535:
        raise ServiceError(f"Kafka's port {kafka.port} leaves no port for its controller")
    return Address(kafka.host, kafka.port + 1)


def redis_address(url: str) -> Address:
    """The host and port of a ``redis://`` URL (``rediss://`` too; Unix sockets are refused).

    >>> redis_address("redis://127.0.0.1:6379/0")
    Address(host='127.0.0.1', port=6379)
    >>> redis_address("redis://:secret@localhost/2")
    Address(host='localhost', port=6379)
    >>> redis_address("unix:///run/redis.sock")
    Traceback (most recent call last):
    ...
    streamapp.dev.errors.ServiceError: STREAMAPP_REDIS_URL must be redis://host:port/db for dev up
    """
    parts = urlsplit(url)
    try:
        host, port = parts.hostname, parts.port
    except ValueError:  # a port that is not a number
        host, port = None, None
    if parts.scheme not in ("redis", "rediss") or not host:
        raise ServiceError("STREAMAPP_REDIS_URL must be redis://host:port/db for dev up")
    return Address(host, port or REDIS_DEFAULT_PORT)


def redis_password(url: str) -> str | None:
    """The password a Redis URL carries, if any.

    >>> redis_password("redis://:s3cret@127.0.0.1:6379/0"), redis_password("redis://127.0.0.1")
    ('s3cret', None)
    """
    return urlsplit(url).password or None


def is_loopback(host: str) -> bool:
    """Whether ``host`` names this machine's loopback, the only place dev services are started.

    >>> is_loopback("127.0.0.1"), is_loopback("localhost"), is_loopback("::1"), is_loopback("kafka")
    (True, True, True, False)
    """
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
