"""``streamapp forward`` to a local HTTP receiver that fails twice, then recovers: nothing lost."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import orjson
import pytest
import pytest_asyncio
from aiohttp import web
from redis.asyncio import Redis

from tests.integration.conftest import Stack, wait_until
from tests.integration.http_helpers import free_port, run_cli
from tests.integration.kafka_helpers import create_topic, event_records, publish, read_all
from tests.integration.truth import make_events

pytestmark = pytest.mark.integration
SECRET = "webhook-secret-for-tests"


@dataclass
class Receiver:
    """Answers 503 to its first ``failures`` requests, then 200; keeps what it accepted."""

    failures: int = 2
    requests: int = 0
    bad_signatures: int = 0
    received: list[dict[str, object]] = field(default_factory=list)
    url: str = ""

    async def handle(self, request: web.Request) -> web.Response:
        self.requests += 1
        body = await request.read()
        expected = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(request.headers.get("X-Streamapp-Signature-256", ""),
                                   expected):
            self.bad_signatures += 1
            return web.Response(status=401)
        if self.requests <= self.failures:
            return web.Response(status=503, text="warming up")
        change = orjson.loads(body)
        assert request.headers["X-Streamapp-Event-Id"] == change["event_id"]
        self.received.append(change)
        return web.Response(status=204)


@pytest_asyncio.fixture
async def receiver() -> AsyncIterator[Receiver]:
    found = Receiver()
    application = web.Application()
    application.router.add_post("/hook", found.handle)
    runner = web.AppRunner(application)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    found.url = f"http://127.0.0.1:{port}/hook"
    yield found
    await runner.cleanup()


def start_forward(stack: Stack, url: str, *args: str) -> subprocess.Popen[bytes]:
    log = (stack.logs / "forward.log").open("ab")
    process = subprocess.Popen(
        [sys.executable, "-m", "streamapp", "forward", "--webhook", url, *args],
        env=stack.env(STREAMAPP_WEBHOOK_SECRET=SECRET, STREAMAPP_WEBHOOK_MAX_BACKOFF="1"),
        stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    stack.processes.append(process)
    return process


async def test_every_change_arrives_signed_once_confirmed(
        stack: Stack, redis: Redis, receiver: Receiver) -> None:
    bootstrap = stack.services.kafka_bootstrap
    await create_topic(bootstrap, stack.events_topic)
    await create_topic(bootstrap, stack.changes_topic)
    stack.start_worker()
    await publish(bootstrap, stack.events_topic,
                  event_records(make_events(customers=300, count=2000, seed=3)))
    forwarder = start_forward(stack, receiver.url)

    async def all_delivered() -> bool:
        published = {orjson.loads(v)["event_id"] for _, v in
                     await read_all(bootstrap, stack.changes_topic)}
        return bool(published) and {c["event_id"] for c in receiver.received} == published

    def log() -> str:
        return (f"receiver: {receiver.requests} requests, {len(receiver.received)} accepted, "
                f"{receiver.bad_signatures} badly signed; forwarder exit {forwarder.poll()}\n"
                + (stack.logs / "forward.log").read_text(errors="replace")[-3000:])

    await wait_until(all_delivered, 90, "not every change reached the receiver", log)
    assert receiver.requests >= len(receiver.received) + 2  # the two failures were retried
    assert receiver.bad_signatures == 0
    # Stopped and started again, it resumes after what was confirmed: no change is sent twice.
    forwarder.terminate()
    forwarder.wait(timeout=20)
    delivered = len(receiver.received)
    ids = [c["event_id"] for c in receiver.received]
    assert len(ids) == len(set(ids))
    start_forward(stack, receiver.url)
    await publish(bootstrap, stack.events_topic,
                  event_records(make_events(customers=400, count=1500, seed=4)))
    async def more_delivered() -> bool:
        # New changes take a moment to appear: "all delivered" alone holds before they do.
        return len(receiver.received) > delivered and await all_delivered()

    await wait_until(more_delivered, 90, "changes after a restart did not arrive", log)
    assert len({c["event_id"] for c in receiver.received}) == len(receiver.received)

    # tail reads the same changes; a filter narrows them.
    tail = await run_cli(stack, "tail", "--from-beginning", "--json", "--idle", "2")
    tailed = [orjson.loads(line) for line in tail.stdout.splitlines()]
    assert tail.returncode == 0 and len(tailed) == len(receiver.received)
    one = tailed[0]["segment"]
    narrowed = await run_cli(stack, "tail", "--from-beginning", "--json", "--idle", "2",
                             "--segment", one)
    assert 0 < len(narrowed.stdout.splitlines()) <= len(tailed)


async def test_refuses_to_forward_unsigned_without_a_secret(stack: Stack) -> None:
    result = await run_cli(stack, "forward", "--webhook", "http://127.0.0.1:9/hook")
    assert result.returncode == 1 and "STREAMAPP_WEBHOOK_SECRET" in result.stderr
    bad = await run_cli(stack, "forward", "--webhook", "not a url")
    assert bad.returncode == 2
    await asyncio.sleep(0)
