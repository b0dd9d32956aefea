"""Where ``dev up`` serves Kafka and Redis, read from the settings' strings."""

from __future__ import annotations

import pytest

from streamapp.dev.addresses import (
    Address,
    controller_address,
    is_loopback,
    kafka_address,
    redis_address,
    redis_password,
)
from streamapp.dev.errors import ServiceError


@pytest.mark.parametrize(
    ("bootstrap", "expected"),
    [
        ("127.0.0.1:9092", Address("127.0.0.1", 9092)),
        (" 127.0.0.1:19092 , 127.0.0.1:29092", Address("127.0.0.1", 19092)),
        ("localhost", Address("localhost", 9092)),
        ("PLAINTEXT://127.0.0.1:9094", Address("127.0.0.1", 9094)),
        ("[::1]:9092", Address("::1", 9092)),
    ],
)
def test_kafka_address_is_the_first_bootstrap_server(bootstrap: str, expected: Address) -> None:
    assert kafka_address(bootstrap) == expected


@pytest.mark.parametrize("bootstrap", ["", ":9092", "host:port", "127.0.0.1:99999"])
def test_kafka_address_rejects_what_is_not_host_port(bootstrap: str) -> None:
    with pytest.raises(ServiceError, match="STREAMAPP_KAFKA_BOOTSTRAP"):
        kafka_address(bootstrap)


def test_controller_listens_on_the_next_port() -> None:
    assert controller_address(Address("127.0.0.1", 19092)) == Address("127.0.0.1", 19093)
    with pytest.raises(ServiceError):
        controller_address(Address("127.0.0.1", 65535))


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("redis://127.0.0.1:6379/0", Address("127.0.0.1", 6379)),
        ("redis://127.0.0.1:16379/3", Address("127.0.0.1", 16379)),
        ("redis://:pw@localhost/0", Address("localhost", 6379)),
        ("rediss://user:pw@[::1]:6380", Address("::1", 6380)),
    ],
)
def test_redis_address_from_url(url: str, expected: Address) -> None:
    assert redis_address(url) == expected


@pytest.mark.parametrize("url", ["unix:///run/redis.sock", "127.0.0.1:6379", "redis://h:x/0"])
def test_redis_address_rejects_what_dev_up_cannot_serve(url: str) -> None:
    with pytest.raises(ServiceError, match="STREAMAPP_REDIS_URL"):
        redis_address(url)


def test_redis_password_only_when_the_url_has_one() -> None:
    assert redis_password("redis://:s3cret@127.0.0.1:6379/0") == "s3cret"
    assert redis_password("redis://user:pw@127.0.0.1/0") == "pw"
    assert redis_password("redis://127.0.0.1:6379/0") is None


@pytest.mark.parametrize(
    ("host", "loopback"),
    [("127.0.0.1", True), ("127.0.0.2", True), ("localhost", True), ("::1", True),
     ("10.0.0.1", False), ("kafka", False), ("0.0.0.0", False)],
)  # fmt: skip
def test_only_loopback_hosts_are_served(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_address_text_brackets_ipv6() -> None:
    assert str(Address("::1", 9092)) == "[::1]:9092"
    assert str(Address("127.0.0.1", 9092)) == "127.0.0.1:9092"
