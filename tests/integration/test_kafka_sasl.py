"""Kafka with SASL: a real broker that requires a password, and a worker that logs in to it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from redis.asyncio import Redis

from streamapp.kafka import KafkaRejected
from streamapp.kafka.producer import KafkaPublisher
from streamapp.settings import Settings
from tests.integration.conftest import Stack
from tests.integration.secure_broker import USERS, secure_broker, worker_reaches_truth

pytestmark = pytest.mark.integration


@pytest.fixture
def sasl_broker(tmp_path: Path) -> Iterator[str]:
    """A single-node KRaft broker whose clients must log in with SASL/PLAIN."""
    with secure_broker(tmp_path, ("SASL_PLAINTEXT",)) as broker:
        yield broker.bootstrap("SASL_PLAINTEXT")


def _sasl(user: str, password: str) -> dict[str, str]:
    return {"STREAMAPP_KAFKA_SECURITY_PROTOCOL": "SASL_PLAINTEXT",
            "STREAMAPP_KAFKA_SASL_MECHANISM": "PLAIN",
            "STREAMAPP_KAFKA_SASL_USERNAME": user, "STREAMAPP_KAFKA_SASL_PASSWORD": password}


async def test_a_worker_logs_in_to_a_sasl_broker(
        sasl_broker: str, stack: Stack, redis: Redis, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = await worker_reaches_truth(stack, redis, monkeypatch, sasl_broker,
                                          _sasl("app", USERS["app"]), seed=2)

    wrong = Settings(**{**settings.model_dump(), "kafka_sasl_password": "wrong"})
    with pytest.raises(KafkaRejected, match=r"refused the login of 'app'.*"
                                            r"STREAMAPP_KAFKA_SASL_PASSWORD"):
        async with KafkaPublisher.from_settings(wrong, connect_timeout=5):
            pass
