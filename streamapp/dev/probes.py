"""Does a service answer at an address? A TCP connect first, then a real request of its protocol.

The TCP connect tells "nothing listens" apart from "something listens"; the protocol request (a
Redis PING, a Kafka metadata request) tells "it is the service" apart from "the port is taken by
something else". Both answers matter to ``dev up``: the first means start it, the second means stop.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import redis
from aiokafka.client import AIOKafkaClient

from streamapp.dev.addresses import Address


@dataclass(frozen=True)
class Probe:
    """What one look at a service found.

    >>> Probe(answering=False, listening=True, detail="no PONG").taken_by_other
    True
    """

    answering: bool
    listening: bool
    detail: str

    @property
    def taken_by_other(self) -> bool:
        """Something listens at the address, but it does not speak the service's protocol."""
        return self.listening and not self.answering


NOTHING_LISTENS = Probe(answering=False, listening=False, detail="nothing listens")


def port_open(address: Address, timeout: float = 1.0) -> bool:
    """Whether a TCP connection to ``address`` is accepted.

    >>> port_open(Address("127.0.0.1", 1), timeout=0.5)
    False
    """
    try:
        with socket.create_connection((address.host, address.port), timeout=timeout):
            return True
    except OSError:
        return False


def probe_redis(address: Address, url: str, timeout: float = 2.0) -> Probe:
    """PING the Redis at ``address`` with the credentials of ``url``."""
    if not port_open(address, timeout):
        return NOTHING_LISTENS
    client = redis.Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout)
    try:
        client.ping()
    except redis.AuthenticationError as error:
        return Probe(False, True, f"Redis refused the credentials of STREAMAPP_REDIS_URL: {error}")
    except redis.RedisError as error:
        return Probe(False, True, f"no PONG: {describe(error)}")
    finally:
        client.close()
    return Probe(True, True, "PONG")


def probe_kafka(address: Address, timeout: float = 3.0) -> Probe:
    """Send a metadata request to the Kafka broker at ``address``; it answers when it lists brokers.

    Blocking: the request runs on an event loop of its own (in a helper thread when the caller
    is inside a running loop), so it can be called from anywhere.
    """
    if not port_open(address, min(timeout, 1.0)):
        return NOTHING_LISTENS
    try:
        brokers = _run_blocking(_count_brokers(address, timeout), timeout)
    except Exception as error:  # any failure of the request means "not a Kafka that answers"
        return Probe(False, True, f"no metadata: {describe(error)}")
    if brokers == 0:
        return Probe(False, True, "metadata lists no broker yet")
    return Probe(True, True, f"metadata: {brokers} broker(s)")


def describe(error: BaseException) -> str:
    """An exception as its type and message, for a one-line reason.

    >>> describe(TimeoutError()), describe(ValueError("bad port"))
    ('TimeoutError', 'ValueError: bad port')
    """
    message = str(error).strip()
    return f"{type(error).__name__}: {message}" if message else type(error).__name__


def _run_blocking(coroutine: Coroutine[Any, Any, int], timeout: float) -> int:
    bounded = asyncio.wait_for(coroutine, timeout)
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(bounded)
    with ThreadPoolExecutor(max_workers=1) as thread:  # asyncio.run refuses to nest loops
        return thread.submit(asyncio.run, bounded).result()


async def _count_brokers(address: Address, timeout: float) -> int:
    with _quiet("aiokafka"):
        client = AIOKafkaClient(
            bootstrap_servers=str(address), request_timeout_ms=int(timeout * 1000)
        )
        try:
            await client.bootstrap()
            return len(client.cluster.brokers())
        finally:
            await client.close()


@contextmanager
def _quiet(logger_name: str) -> Iterator[None]:
    # aiokafka logs every refused connection at ERROR; while we poll a starting broker that is
    # expected, and the probe's result already says what went wrong.
    logger = logging.getLogger(logger_name)
    previous = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        logger.setLevel(previous)
