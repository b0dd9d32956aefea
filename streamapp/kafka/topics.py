"""Topics streamapp uses, created when missing, and the check that Kafka answers at all.

Topics are created with ``settings.topic_partitions`` partitions and replication 1 (the
single-node development broker); an operator who created them differently keeps their layout,
because existing topics are never altered.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError, for_code

from streamapp.kafka import KafkaRejected, ServiceUnavailable
from streamapp.kafka.connect import start_client
from streamapp.security import kafka_client_kwargs
from streamapp.settings import Settings

# Between connection attempts: short, so a broker that is just starting is found quickly.
_RETRY_PAUSE = 0.5


def default_topics(settings: Settings) -> list[str]:
    """The input, changes and dead-letter topics, in that order.

    >>> default_topics(Settings(_env_file=None))
    ['customer-events', 'segment-changes', 'customer-events-dlq']
    """
    return [settings.events_topic, settings.changes_topic, settings.dlq_topic]


@asynccontextmanager
async def kafka_admin(
    settings: Settings, timeout: float = 10.0
) -> AsyncIterator[AIOKafkaAdminClient]:
    """A started admin client, retrying for up to ``timeout`` seconds before giving up.

    Raises :class:`ServiceUnavailable` when no broker answered in time, and
    :class:`KafkaRejected` as soon as one turned the client away (TLS, login).
    """
    security = kafka_client_kwargs(settings)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        admin = AIOKafkaAdminClient(
            bootstrap_servers=settings.kafka_bootstrap,
            request_timeout_ms=max(1000, int(timeout * 1000)),
            **security,
        )
        try:
            await start_client(admin, settings.kafka_bootstrap, security,
                               max(deadline - loop.time(), 0.1))
            break
        except KafkaRejected:
            raise  # a broker that turned us away does so again: waiting only hides why
        except ServiceUnavailable:
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise ServiceUnavailable.kafka(settings.kafka_bootstrap, timeout) from None
            await asyncio.sleep(min(_RETRY_PAUSE, remaining))
    try:
        yield admin
    finally:
        await admin.close()


async def wait_for_kafka(settings: Settings, timeout: float = 10.0) -> None:
    """Return once a broker at ``settings.kafka_bootstrap`` answers; raise
    :class:`ServiceUnavailable` after ``timeout`` seconds of silence."""
    async with kafka_admin(settings, timeout):
        pass


async def ensure_topics(
    settings: Settings, names: Sequence[str] | None = None, timeout: float = 10.0
) -> list[str]:
    """Create the topics in ``names`` (default: :func:`default_topics`) that do not exist yet.

    Returns the names it created. Existing topics are left as they are; a topic created by
    someone else in the meantime counts as existing.
    """
    wanted = list(dict.fromkeys(names if names is not None else default_topics(settings)))
    async with kafka_admin(settings, timeout) as admin:
        existing = set(await admin.list_topics())
        missing = [name for name in wanted if name not in existing]
        if not missing:
            return []
        response = await admin.create_topics(
            [NewTopic(name, settings.topic_partitions, 1) for name in missing]
        )
    created: list[str] = []
    # Entries are (topic, error_code) or (topic, error_code, error_message) by protocol version.
    for topic, code, *message in response.topic_errors:
        if code == 0:
            created.append(topic)
        elif code != TopicAlreadyExistsError.errno:
            detail = message[0] if message and message[0] else for_code(code).message
            raise for_code(code)(f"could not create topic {topic!r}: {detail}")
    return created


async def partition_ids(bootstrap: str, topic: str) -> list[int]:
    """The partitions of ``topic``, as the cluster describes it.

    Asked of the admin client because a fresh consumer's metadata cache can lack a topic that
    was just created, and a consumer assigned no partition reads nothing.
    """
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        described = await admin.describe_topics([topic])
    finally:
        await admin.close()
    return sorted(p["partition"] for d in described for p in d.get("partitions", []))
