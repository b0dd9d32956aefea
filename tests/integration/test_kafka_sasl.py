"""Kafka with SASL: a real broker that requires a password, and a worker that logs in to it."""

from __future__ import annotations

import asyncio
import base64
import shutil
import socket
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from redis.asyncio import Redis

from streamapp.dev.kafka_broker import KafkaBroker
from streamapp.kafka import ServiceUnavailable
from streamapp.kafka.producer import KafkaPublisher
from streamapp.kafka.topics import ensure_topics
from streamapp.settings import Settings
from tests.integration.conftest import Stack, wait_until
from tests.integration.kafka_helpers import event_records
from tests.integration.truth import expected_profiles, make_events

pytestmark = pytest.mark.integration
USERS = {"admin": "admin-secret", "app": "app-secret"}


def _free_port_pair() -> int:
    while True:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = int(s.getsockname()[1])
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port + 1)) != 0 and port < 65000:
                return port


def _properties(port: int, data: Path) -> str:
    users = " ".join(f'user_{u}="{p}"' for u, p in USERS.items())
    jaas = ("org.apache.kafka.common.security.plain.PlainLoginModule required "
            f'username="admin" password="{USERS["admin"]}" {users};')
    return "\n".join([
        "process.roles=broker,controller", "node.id=1",
        f"controller.quorum.voters=1@127.0.0.1:{port + 1}",
        f"listeners=SASL_PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{port + 1}",
        f"advertised.listeners=SASL_PLAINTEXT://127.0.0.1:{port}",
        "controller.listener.names=CONTROLLER", "inter.broker.listener.name=SASL_PLAINTEXT",
        "listener.security.protocol.map=SASL_PLAINTEXT:SASL_PLAINTEXT,CONTROLLER:PLAINTEXT",
        "sasl.enabled.mechanisms=PLAIN", "sasl.mechanism.inter.broker.protocol=PLAIN",
        f"listener.name.sasl_plaintext.plain.sasl.jaas.config={jaas}",
        f"log.dirs={data}", "num.partitions=2", "offsets.topic.replication.factor=1",
        "transaction.state.log.replication.factor=1", "transaction.state.log.min.isr=1",
        "group.initial.rebalance.delay.ms=0", ""])


@pytest.fixture
def sasl_broker(tmp_path: Path) -> Iterator[str]:
    """A single-node KRaft broker whose clients must log in with SASL/PLAIN."""
    libs = KafkaBroker.from_settings(Settings()).libs_dir
    if not (libs / ".complete").exists():
        pytest.fail(f"Kafka's jars are not in {libs}: run `streamapp dev up` once")
    java = shutil.which("java")
    assert java, "java is needed to run the broker"
    port = _free_port_pair()
    props = tmp_path / "server.properties"
    props.write_text(_properties(port, tmp_path / "data"))
    classpath = ["-cp", f"{libs}/*", "-Dlog4j.configuration=file:/dev/null"]
    cluster = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
    subprocess.run([java, *classpath, "kafka.tools.StorageTool", "format", "-t", cluster,
                    "-c", str(props)], check=True, capture_output=True, timeout=120)
    with (tmp_path / "broker.log").open("wb") as log:
        broker = subprocess.Popen([java, "-Xmx512m", *classpath, "kafka.Kafka", str(props)],
                                  stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        yield f"127.0.0.1:{port}"
    finally:
        broker.terminate()
        try:
            broker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            broker.kill()


def _sasl(user: str, password: str) -> dict[str, str]:
    return {"STREAMAPP_KAFKA_SECURITY_PROTOCOL": "SASL_PLAINTEXT",
            "STREAMAPP_KAFKA_SASL_MECHANISM": "PLAIN",
            "STREAMAPP_KAFKA_SASL_USERNAME": user, "STREAMAPP_KAFKA_SASL_PASSWORD": password}


async def test_a_worker_logs_in_to_a_sasl_broker(
        sasl_broker: str, stack: Stack, redis: Redis, monkeypatch: pytest.MonkeyPatch) -> None:
    env = {**stack.env(STREAMAPP_KAFKA_BOOTSTRAP=sasl_broker), **_sasl("app", USERS["app"])}
    for name, value in env.items():
        if name.startswith("STREAMAPP_"):
            monkeypatch.setenv(name, value)
    settings = Settings()
    await _until_ready(settings)
    await ensure_topics(settings)
    events = make_events(customers=40, count=400, seed=2)
    async with KafkaPublisher.from_settings(settings) as publisher:
        await publisher.send_many(event_records(events), settings.events_topic)
    stack.start_worker(**{k: v for k, v in env.items() if k.startswith("STREAMAPP_")})
    truth = expected_profiles(events)

    async def applied() -> bool:
        total = 0
        for customer in truth:
            total += int(await redis.hget(f"{stack.name}:p:{customer}", "e") or 0)
        return total == sum(t.events_total for t in truth.values())

    await wait_until(applied, 90, "the worker did not process the SASL broker's events",
                     stack.worker_log, stack)

    wrong = Settings(**{**settings.model_dump(), "kafka_sasl_password": "wrong"})
    with pytest.raises(ServiceUnavailable):
        async with KafkaPublisher.from_settings(wrong, connect_timeout=5):
            pass


async def _until_ready(settings: Settings, timeout: float = 60.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        try:
            async with KafkaPublisher.from_settings(settings, connect_timeout=5):
                return
        except ServiceUnavailable:
            if asyncio.get_running_loop().time() > deadline:
                raise
            await asyncio.sleep(1)

