"""Probes tell "nothing listens" from "something else listens" without a real service."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest

from streamapp.dev.addresses import Address
from streamapp.dev.probes import NOTHING_LISTENS, port_open, probe_kafka, probe_redis


@pytest.fixture
def not_a_service() -> Iterator[Address]:
    """A TCP server that accepts, answers with HTTP-ish junk, and closes."""
    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]

    def serve() -> None:
        while True:
            try:
                connection, _ = server.accept()
            except OSError:
                return
            with connection:
                connection.sendall(b"<html>not a service</html>\r\n")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield Address("127.0.0.1", port)
    server.close()


def _free_address() -> Address:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return Address("127.0.0.1", probe.getsockname()[1])


def test_nothing_listens_on_a_free_port() -> None:
    address = _free_address()
    assert not port_open(address)
    assert probe_kafka(address) == NOTHING_LISTENS
    assert probe_redis(address, f"redis://{address}/0") == NOTHING_LISTENS


def test_a_port_held_by_something_else_is_taken(not_a_service: Address) -> None:
    assert port_open(not_a_service)
    redis_probe = probe_redis(not_a_service, f"redis://{not_a_service}/0", timeout=1.0)
    assert redis_probe.taken_by_other
    kafka_probe = probe_kafka(not_a_service, timeout=1.0)
    assert kafka_probe.taken_by_other
    assert kafka_probe.detail.startswith("no metadata")


async def test_probing_kafka_works_inside_a_running_event_loop(not_a_service: Address) -> None:
    # asyncio.run cannot nest; the probe must still answer, not report "RuntimeError".
    probe = probe_kafka(not_a_service, timeout=1.0)
    assert probe.taken_by_other
    assert "RuntimeError" not in probe.detail
