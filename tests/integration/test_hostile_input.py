"""The whole hostile corpus through a real worker: nothing stops the stream, nothing is lost."""

from __future__ import annotations

import base64
import time
from collections import Counter

import orjson
import pytest
from redis.asyncio import Redis

from streamapp.pipeline.decode import DLQ_PAYLOAD_MAX_BYTES
from streamapp.store.keys import BINARY_FIELDS
from tests.hostile_corpus import corpus
from tests.integration.conftest import Stack, wait_until
from tests.integration.kafka_helpers import create_topic, event_records, publish, read_all
from tests.integration.test_pipeline import _all_match, _mismatches
from tests.integration.truth import expected_profiles, make_events

pytestmark = pytest.mark.integration


async def test_hostile_corpus_goes_to_the_dlq_or_is_accepted(stack: Stack, redis: Redis) -> None:
    bootstrap = stack.services.kafka_bootstrap
    await create_topic(bootstrap, stack.events_topic, partitions=4)
    hostile = corpus()
    good = make_events(customers=100, count=1500, seed=17)
    records = event_records(good)
    half = len(records) // 2
    started = time.monotonic()
    await publish(bootstrap, stack.events_topic, records[:half])
    await publish(bootstrap, stack.events_topic, [(h.key, h.value) for h in hostile])
    worker = stack.start_worker()
    await publish(bootstrap, stack.events_topic, records[half:])

    truth = expected_profiles(good)
    await wait_until(lambda: _all_match(redis, stack.name, truth), 120,
                     "the good events around the hostile ones were not all applied",
                     stack.worker_log, stack)
    assert await _mismatches(redis, stack.name, truth) == []

    expected_dlq = Counter((h.value[:DLQ_PAYLOAD_MAX_BYTES], h.error_type)
                           for h in hostile if h.expect == "dlq")

    async def dlq_complete() -> bool:
        return len(await read_all(bootstrap, stack.dlq_topic)) >= sum(expected_dlq.values())

    await wait_until(dlq_complete, 60, "not every rejected record reached the DLQ",
                     stack.worker_log, stack)
    dlq = [orjson.loads(v) for _, v in await read_all(bootstrap, stack.dlq_topic)]
    got = Counter((base64.b64decode(r["payload_b64"]), r["error_type"]) for r in dlq)
    assert got == expected_dlq
    assert all(r["error"] and r["topic"] == stack.events_topic for r in dlq)

    accepted = [h for h in hostile if h.expect == "accepted"]
    for h in accepted:
        assert h.customer_id is not None
        stored = await redis.hgetall(stack.keys.profile(h.customer_id))
        assert int(stored[b"e"]) == 1, h.kind
        # Fingerprints and packed numbers are bytes, not text: any byte may occur in them.
        text = [v for k, v in stored.items() if k.decode() not in BINARY_FIELDS]
        assert not any(b"@" in v or b"+49" in v for v in text), h.kind
    assert worker.poll() is None, "the worker crashed"
    print(f"\nhostile corpus: {len(hostile)} records ({sum(expected_dlq.values())} to the DLQ, "
          f"{len(accepted)} accepted), {len(good)} good events exact, 0 crashes, "
          f"{time.monotonic() - started:.0f} s")
