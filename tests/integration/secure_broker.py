"""A private Kafka broker whose clients must authenticate, and a worker run against it.

The shared dev broker listens in plaintext only, so each security test starts its own single-node
KRaft broker on free ports, from the jars ``streamapp dev up`` fetched and with the dev broker's
own server settings, and adds listeners that demand a password (SASL/PLAIN), a certificate (TLS),
or both.
"""

from __future__ import annotations

import asyncio
import itertools
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import pytest
from redis.asyncio import Redis

from streamapp.dev.addresses import Address
from streamapp.dev.kafka_broker import KafkaBroker
from streamapp.dev.kafka_config import (
    new_cluster_id,
    render_log4j_properties,
    render_server_properties,
)
from streamapp.dev.probes import port_open
from streamapp.dev.processes import log_tail
from streamapp.kafka import ServiceUnavailable
from streamapp.kafka.producer import KafkaPublisher
from streamapp.kafka.topics import ensure_topics
from streamapp.settings import Settings
from tests.integration.conftest import Stack
from tests.integration.faults import reach_truth
from tests.integration.kafka_helpers import event_records
from tests.integration.truth import expected_profiles, make_events

Protocol = Literal["SASL_PLAINTEXT", "SSL", "SASL_SSL"]
HOST = "127.0.0.1"
USERS = {"admin": "admin-secret", "app": "app-secret"}
# A broker that lives for one test module never needs the optimising compiler: without it the
# JVM starts about 3 s sooner here (8 s to listening before, 5 s after).
JVM_OPTIONS = ("-Xmx512m", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC")
# Two partitions are enough to exercise a consumer group and keep the broker's start short.
PARTITIONS = 2


@dataclass(frozen=True)
class BrokerTls:
    """The broker's half of TLS: a PEM key store (encrypted key, then the certificate chain),
    the password of that key, and the PEM certificates of the CAs it trusts. Its ``SSL``
    listener requires a client certificate signed by one of them."""

    keystore: Path
    key_password: str
    truststore: Path


@dataclass(frozen=True)
class SecureBroker:
    """A running broker: one client port per listener."""

    ports: Mapping[Protocol, int]

    def bootstrap(self, protocol: Protocol) -> str:
        return str(Address(HOST, self.ports[protocol]))


def free_ports(count: int) -> list[int]:
    """Distinct free loopback ports; each socket stays bound until all are chosen."""
    with ExitStack() as sockets:
        chosen = []
        for _ in range(count):
            s = sockets.enter_context(socket.socket())
            s.bind((HOST, 0))
            chosen.append(int(s.getsockname()[1]))
        return chosen


def _plain_jaas() -> str:
    users = " ".join(f'user_{user}="{password}"' for user, password in USERS.items())
    return ("org.apache.kafka.common.security.plain.PlainLoginModule required "
            f'username="admin" password="{USERS["admin"]}" {users};')


def broker_properties(ports: Mapping[Protocol, int], controller: int, data: Path,
                      tls: BrokerTls | None = None) -> str:
    """``server.properties``: the dev broker's, with one client listener per protocol.

    The first protocol is also the inter-broker listener; on a single node it is never dialled,
    but Kafka insists that it names one of the listeners.
    """
    if tls is None and any(protocol.endswith("SSL") for protocol in ports):
        raise ValueError("a TLS listener needs the broker's key store and trust store")
    first = next(iter(ports))
    base = render_server_properties(Address(HOST, ports[first]), Address(HOST, controller),
                                    data, PARTITIONS)
    props = dict(line.split("=", 1) for line in base.splitlines()
                 if "=" in line and not line.startswith("#"))
    advertised = [f"{protocol}://{HOST}:{port}" for protocol, port in ports.items()]
    props.update({
        "listeners": ",".join([*advertised, f"CONTROLLER://{HOST}:{controller}"]),
        "advertised.listeners": ",".join(advertised),
        "inter.broker.listener.name": first,
        "listener.security.protocol.map": ",".join(
            [*(f"{protocol}:{protocol}" for protocol in ports), "CONTROLLER:PLAINTEXT"]),
    })
    sasl = [protocol for protocol in ports if protocol.startswith("SASL")]
    if sasl:
        props.update({"sasl.enabled.mechanisms": "PLAIN",
                      "sasl.mechanism.inter.broker.protocol": "PLAIN"})
        for protocol in sasl:
            props[f"listener.name.{protocol.lower()}.plain.sasl.jaas.config"] = _plain_jaas()
    if tls is not None:
        # Kafka reads PEM stores natively (KIP-651); a file-based PEM key store must hold an
        # encrypted PKCS#8 key, and Kafka refuses it without ssl.key.password.
        props.update({
            "ssl.keystore.type": "PEM", "ssl.keystore.location": str(tls.keystore),
            "ssl.key.password": tls.key_password,
            "ssl.truststore.type": "PEM", "ssl.truststore.location": str(tls.truststore),
        })
        if "SSL" in ports:
            props["listener.name.ssl.ssl.client.auth"] = "required"
    return "".join(f"{key}={value}\n" for key, value in props.items())


@contextmanager
def secure_broker(workdir: Path, protocols: tuple[Protocol, ...],
                  tls: BrokerTls | None = None) -> Iterator[SecureBroker]:
    """A single-node KRaft broker with the given client listeners, listening on return and
    stopped on exit."""
    libs = KafkaBroker.from_settings(Settings()).libs_dir
    if not (libs / ".complete").exists():
        pytest.fail(f"Kafka's jars are not in {libs}: run `streamapp dev up` once")
    java = shutil.which("java")
    assert java, "java is needed to run the broker"
    *client_ports, controller = free_ports(len(protocols) + 1)
    ports = dict(zip(protocols, client_ports, strict=True))
    props = workdir / "server.properties"
    props.write_text(broker_properties(ports, controller, workdir / "data", tls))
    log = workdir / "server.log"
    log4j = workdir / "log4j.properties"
    log4j.write_text(render_log4j_properties(log))
    jvm = [java, *JVM_OPTIONS, "-cp", f"{libs}/*", f"-Dlog4j.configuration={log4j.as_uri()}"]
    subprocess.run([*jvm, "kafka.tools.StorageTool", "format",
                    "-t", new_cluster_id(), "-c", str(props)],
                   check=True, capture_output=True, timeout=120)
    with (workdir / "console.log").open("wb") as console:
        broker = subprocess.Popen([*jvm, "kafka.Kafka", str(props)],
                                  stdout=console, stderr=subprocess.STDOUT,
                                  start_new_session=True)
    try:
        _until_listening(broker, [Address(HOST, port) for port in client_ports], log)
        yield SecureBroker(ports)
    finally:
        broker.terminate()
        try:
            broker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            broker.kill()
            broker.wait()


def _until_listening(broker: subprocess.Popen[bytes], addresses: list[Address], log: Path,
                     timeout: float = 60.0) -> None:
    # A configuration Kafka rejects (a key store it cannot read) ends the process within
    # seconds; saying so at once beats a client retrying until its own timeout.
    deadline = time.monotonic() + timeout
    while not all(port_open(address, timeout=0.5) for address in addresses):
        if broker.poll() is not None:
            pytest.fail(f"the broker exited with {broker.returncode}:\n{_reasons(log)}")
        if time.monotonic() > deadline:
            pytest.fail(f"the broker did not listen within {timeout:.0f} s:\n{log_tail(log)}")
        time.sleep(0.25)


def _reasons(log: Path) -> str:
    # The log's tail is the stack of a shutdown; the errors and their causes say what was wrong.
    lines = log.read_text(errors="replace").splitlines() if log.exists() else []
    return "\n".join(line for previous, line in itertools.pairwise(["", *lines])
                     if " ERROR " in line or " ERROR " in previous or line.startswith("Caused by"))


async def until_ready(settings: Settings, timeout: float = 60.0) -> None:
    """Wait until a producer with these settings logs in: the broker is still starting."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        try:
            async with KafkaPublisher.from_settings(settings, connect_timeout=5):
                return
        except ServiceUnavailable:
            if asyncio.get_running_loop().time() > deadline:
                raise
            await asyncio.sleep(0.5)


async def worker_reaches_truth(stack: Stack, redis: Redis, monkeypatch: pytest.MonkeyPatch,
                               bootstrap: str, security: Mapping[str, str], seed: int) -> Settings:
    """Create the topics and publish events with ``security``, run a real worker with the same
    ``STREAMAPP_KAFKA_*`` environment, and wait until every profile equals the ground truth.

    Returns the settings the clients used, for the checks that follow.
    """
    env = {**stack.env(STREAMAPP_KAFKA_BOOTSTRAP=bootstrap), **security}
    own = {name: value for name, value in env.items() if name.startswith("STREAMAPP_")}
    for name, value in own.items():
        monkeypatch.setenv(name, value)
    settings = Settings()
    await until_ready(settings)
    await ensure_topics(settings)
    events = make_events(customers=40, count=400, seed=seed)
    async with KafkaPublisher.from_settings(settings) as publisher:
        await publisher.send_many(event_records(events), settings.events_topic)
    stack.start_worker(**own)
    truth = expected_profiles(events)

    await reach_truth(redis, stack, truth, 90, f"a worker on {settings.kafka_security_protocol} "
                      "did not bring every profile to the ground truth")
    return settings
