"""Which real Kafka and Redis the integration tests use, and how they are found.

DESIGN.md's order: the addresses in STREAMAPP_KAFKA_BOOTSTRAP / STREAMAPP_REDIS_URL when set;
else containers when a Docker engine answers; else the services of ``streamapp dev up`` (started
when they are not running). With CI=true a service that cannot be had fails the run: never a skip.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass

from rich.console import Console

from streamapp.dev.services import ensure_services
from streamapp.settings import Settings


@dataclass(frozen=True)
class Services:
    kafka_bootstrap: str
    redis_url: str
    origin: str


def _docker_answers() -> bool:
    with suppress(Exception):
        import docker  # type: ignore[import-untyped]  # testcontainers' dependency

        docker.from_env(timeout=2).ping()
        return True
    return False


@contextmanager
def _containers() -> Iterator[Services]:
    from testcontainers.kafka import KafkaContainer
    from testcontainers.redis import RedisContainer

    with KafkaContainer("apache/kafka:3.9.1").with_kraft() as kafka, \
            RedisContainer("redis:7") as redis:
        url = f"redis://{redis.get_container_host_ip()}:{redis.get_exposed_port(6379)}/0"
        yield Services(kafka.get_bootstrap_server(), url, "containers")


@contextmanager
def real_services() -> Iterator[Services]:
    """The Kafka and Redis to test against, for the duration of the block."""
    bootstrap = os.environ.get("STREAMAPP_KAFKA_BOOTSTRAP")
    redis_url = os.environ.get("STREAMAPP_REDIS_URL")
    if bootstrap and redis_url:
        yield Services(bootstrap, redis_url, "environment")
    elif _docker_answers():
        with _containers() as services:
            yield services
    else:
        settings = Settings()
        ensure_services(settings, Console(stderr=True))
        yield Services(settings.kafka_bootstrap, settings.redis_dsn, "streamapp dev up")
