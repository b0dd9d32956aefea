"""The redis.conf of the dev Redis: loopback, daemonized, nothing written to disk."""

from __future__ import annotations

from pathlib import Path

from streamapp.dev.addresses import Address
from streamapp.dev.redis_server import render_redis_config


def _config(address: Address, password: str | None = None) -> list[str]:
    text = render_redis_config(
        address, Path("/cache/redis/6379"), Path("/cache/r.pid"), Path("/cache/r.log"), password
    )
    return text.splitlines()


def test_a_daemonized_in_memory_server_on_the_address() -> None:
    lines = _config(Address("127.0.0.1", 16379))
    assert "port 16379" in lines
    assert "bind 127.0.0.1" in lines
    assert "daemonize yes" in lines
    assert 'dir "/cache/redis/6379"' in lines
    assert 'pidfile "/cache/r.pid"' in lines
    assert 'logfile "/cache/r.log"' in lines
    assert 'save ""' in lines
    assert "appendonly no" in lines
    assert not any(line.startswith("requirepass") for line in lines)


def test_localhost_binds_ipv4_and_optionally_ipv6() -> None:
    assert "bind 127.0.0.1 -::1" in _config(Address("localhost", 6379))


def test_the_urls_password_is_required_and_quoted() -> None:
    lines = _config(Address("127.0.0.1", 6379), password='pa ss"word')
    assert 'requirepass "pa ss\\"word"' in lines
