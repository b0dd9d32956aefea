"""With STREAMAPP_HASH_CUSTOMER_IDS no customer id reaches Redis or the change events."""

from __future__ import annotations

import subprocess
import sys

import orjson
import pytest
from redis.asyncio import Redis

from streamapp.core.ids import hash_customer_id
from tests.integration.conftest import Stack, wait_until
from tests.integration.kafka_helpers import create_topic, event_records, publish, read_all
from tests.integration.truth import expected_profiles, make_events

pytestmark = pytest.mark.integration
SALT = "pepper"


async def test_only_hashed_ids_are_stored_and_published(stack: Stack, redis: Redis) -> None:
    bootstrap = stack.services.kafka_bootstrap
    await create_topic(bootstrap, stack.events_topic, partitions=4)
    # Enough events per customer that the model has centres, and changes are published, well
    # before the last batch, however the fetches spread the partitions over batches.
    events = make_events(customers=120, count=3000, seed=9)
    await publish(bootstrap, stack.events_topic, event_records(events))
    settings = {"STREAMAPP_HASH_CUSTOMER_IDS": "true", "STREAMAPP_CUSTOMER_ID_SALT": SALT}
    stack.start_worker(**settings)
    truth = expected_profiles(events)

    async def applied() -> bool:
        total = 0
        for customer in truth:
            total += int(await redis.hget(stack.keys.profile(hash_customer_id(customer, SALT)),
                                          "e") or 0)
        return total == sum(t.events_total for t in truth.values())

    await wait_until(applied, 90, "the hashed profiles did not reach the totals",
                     stack.worker_log, stack)
    ids = [c.encode() for c in truth]
    async for key in redis.scan_iter(match=stack.keys.pattern, count=1000):
        assert not any(key.endswith(b":" + i) for i in ids), key
    changes = await read_all(bootstrap, stack.changes_topic)
    assert changes
    for key, value in changes:
        change = orjson.loads(value)
        assert change["customer_id"].startswith("h-") and key == change["customer_id"].encode()

    customer, t = next(iter(truth.items()))
    out = subprocess.run([sys.executable, "-m", "streamapp", "profile", customer, "--json"],
                         env=stack.env(**settings), capture_output=True, timeout=60)
    assert out.returncode == 0, out.stderr.decode()
    profile = orjson.loads(out.stdout)
    assert profile["customer_id"] == hash_customer_id(customer, SALT)
    assert profile["features"]["events_total"] == t.events_total
