"""Publishing against the real broker: topics, keyed batches, and the two producing commands.

Self-contained: its own uniquely named topics, a plain aiokafka consumer to read them back.
Kafka is STREAMAPP_KAFKA_BOOTSTRAP when set, else 127.0.0.1:9092; when it does not answer the
tests fail (they never skip), saying how to start it.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
import typer
from aiokafka.admin import AIOKafkaAdminClient
from typer.testing import CliRunner

from streamapp.cli import publish, simulate
from streamapp.kafka import ServiceUnavailable
from streamapp.kafka.producer import KafkaPublisher
from streamapp.kafka.topics import ensure_topics, wait_for_kafka
from streamapp.settings import Settings, get_settings
from streamapp.simulator import generate
from tests.integration.kafka_helpers import Record, read_records

pytestmark = pytest.mark.integration

PARTITIONS = 3


@pytest.fixture
def settings() -> Iterator[Settings]:
    """Settings naming this test's own topics on the real broker; the topics go afterwards."""
    name = f"test-publish-{uuid.uuid4().hex[:10]}"
    isolated = Settings(
        _env_file=None,
        kafka_bootstrap=os.environ.get("STREAMAPP_KAFKA_BOOTSTRAP", "127.0.0.1:9092"),
        events_topic=f"{name}-events",
        changes_topic=f"{name}-changes",
        dlq_topic=f"{name}-dlq",
        topic_partitions=PARTITIONS,
    )
    try:
        asyncio.run(wait_for_kafka(isolated, timeout=20))
    except ServiceUnavailable as error:
        pytest.fail(str(error))
    yield isolated
    asyncio.run(_delete_topics(isolated))


@pytest.fixture
def cli_env(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The commands read settings from the environment, once: point them at this test's topics."""
    for field in ("kafka_bootstrap", "events_topic", "changes_topic", "dlq_topic"):
        monkeypatch.setenv(f"STREAMAPP_{field.upper()}", str(getattr(settings, field)))
    monkeypatch.setenv("STREAMAPP_TOPIC_PARTITIONS", str(PARTITIONS))
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


async def _delete_topics(settings: Settings) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        names = [settings.events_topic, settings.changes_topic, settings.dlq_topic]
        await admin.delete_topics([n for n in names if n in existing])
    finally:
        await admin.close()


def _assert_keyed_by_customer(records: list[Record]) -> None:
    partitions_of: dict[bytes | None, set[int]] = defaultdict(set)
    for partition, _, key, value in records:
        event = orjson.loads(value)
        assert key == str(event.get("userId") or event.get("anonymousId")).encode()
        partitions_of[key].add(partition)
    assert all(len(p) == 1 for p in partitions_of.values()), "a customer spans partitions"


async def test_topics_are_created_once_with_the_configured_partitions(settings: Settings) -> None:
    created = await ensure_topics(settings)
    assert sorted(created) == sorted([settings.events_topic, settings.changes_topic,
                                      settings.dlq_topic])
    assert await ensure_topics(settings) == []
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap)
    await admin.start()
    try:
        described = await admin.describe_topics([settings.events_topic])
    finally:
        await admin.close()
    assert len(described[0]["partitions"]) == PARTITIONS


async def test_send_many_delivers_every_record_keyed_and_in_order(settings: Settings) -> None:
    await ensure_topics(settings, [settings.events_topic])
    events = list(generate(120, seed=21, days=20))
    records = [(e["userId"].encode(), orjson.dumps(e)) for e in events]
    async with KafkaPublisher.from_settings(settings) as publisher:
        sent = await publisher.send_many(records, settings.events_topic, chunk=500)
    assert sent == len(events) > 1000

    read = await read_records(settings.kafka_bootstrap, settings.events_topic)
    assert len(read) == len(events)
    _assert_keyed_by_customer(read)
    assert sorted(value for *_, value in read) == sorted(value for _, value in records)
    # Within a partition each customer's events keep the order they were sent in.
    sent_order = {orjson.loads(v)["messageId"]: i for i, (_, v) in enumerate(records)}
    by_key: dict[bytes | None, list[int]] = defaultdict(list)
    for _, _, key, value in sorted(read, key=lambda r: (r[0], r[1])):
        by_key[key].append(sent_order[orjson.loads(value)["messageId"]])
    assert all(order == sorted(order) for order in by_key.values())


def _app() -> typer.Typer:
    app = typer.Typer(add_completion=False)
    for module in (publish, simulate):
        module.register(app)

    @app.callback()
    def main() -> None:
        """The producing commands, as streamapp.cli.main registers them."""

    return app


@pytest.mark.usefixtures("cli_env")
def test_publish_command_sends_the_valid_lines(settings: Settings, tmp_path: Path) -> None:
    events = list(generate(50, seed=8, days=10))[:300]
    lines = [orjson.dumps(e) for e in events]
    lines.insert(10, b"{not json")
    lines.insert(200, b'{"type":"track","userId":"u1"}')
    source = tmp_path / "events.jsonl"
    source.write_bytes(b"\n".join(lines) + b"\n")

    result = CliRunner().invoke(_app(), ["publish", str(source)])

    output = " ".join(result.output.split())
    assert result.exit_code == 1, output
    assert "line 11: invalid JSON" in output and "line 201: event: Field required" in output
    assert "sent 300 events" in output
    read = asyncio.run(read_records(settings.kafka_bootstrap, settings.events_topic))
    assert len(read) == 300
    _assert_keyed_by_customer(read)
    assert {value for *_, value in read} == {orjson.dumps(e) for e in events}


@pytest.mark.usefixtures("cli_env")
def test_simulate_command_publishes_what_its_ground_truth_says(
    settings: Settings, tmp_path: Path
) -> None:
    truth_file = tmp_path / "truth.json"
    result = CliRunner().invoke(
        _app(),
        ["simulate", "--customers", "60", "--rate", "0", "--events", "900", "--seed", "4",
         "--truth", str(truth_file)],
    )
    assert result.exit_code == 0, result.output
    truth = orjson.loads(truth_file.read_bytes())
    read = asyncio.run(read_records(settings.kafka_bootstrap, settings.events_topic))
    assert len(read) == truth["totals"]["events_total"] == 900
    _assert_keyed_by_customer(read)
    per_customer = Counter(key.decode() for _, _, key, _ in read if key is not None)
    customers = truth["customers"].items()
    assert per_customer == {cid: c["events_total"] for cid, c in customers if c["events_total"]}
