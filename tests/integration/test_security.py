"""Credentials and transport settings against real servers: Redis ACL users and passwords, the
HTTP API token, and clear failures (never hangs) when the credentials are wrong."""

from __future__ import annotations

import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from redis.asyncio import Redis

from tests.integration.conftest import Stack, wait_until
from tests.integration.faults import free_port, own_redis
from tests.integration.kafka_helpers import create_topic, event_records, publish
from tests.integration.truth import make_events

pytestmark = pytest.mark.integration
ADMIN_PASSWORD = "admin-Secret-1f2e"
WORKER_PASSWORD = "worker-Secret-9a8b"


def _get(port: int, path: str, token: str | None = None) -> int:
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}")
    if token is not None:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)
    except OSError:
        return 0


async def test_worker_runs_as_an_acl_user_and_keeps_secrets_out_of_logs(
        stack: Stack, tmp_path: Path) -> None:
    with own_redis(tmp_path, "--requirepass", ADMIN_PASSWORD) as server:
        admin = Redis.from_url(server.url, password=ADMIN_PASSWORD)
        # The worker's user may touch only its own prefix: a shared Redis stays partitioned.
        await admin.execute_command("ACL", "SETUSER", "streamapp-worker", "on",
                                    f">{WORKER_PASSWORD}", f"~{stack.keys.pattern}", "+@all",
                                    "-@dangerous")
        await create_topic(stack.services.kafka_bootstrap, stack.events_topic)
        events = make_events(customers=30, count=300, seed=51)
        await publish(stack.services.kafka_bootstrap, stack.events_topic, event_records(events))
        web_port, token = free_port(), "api-Token-77c1"
        stack.start_worker(STREAMAPP_REDIS_URL=server.url,
                           STREAMAPP_REDIS_USERNAME="streamapp-worker",
                           STREAMAPP_REDIS_PASSWORD=WORKER_PASSWORD,
                           STREAMAPP_API_TOKEN=token, STREAMAPP_WEB_PORT=str(web_port))

        async def applied() -> bool:
            return int(await admin.hget(stack.keys.meta, "customers") or 0) == 30

        await wait_until(applied, 90, "the worker did not apply events as the ACL user",
                         stack.worker_log, stack)
        assert _get(web_port, "/healthz") == 200
        assert _get(web_port, "/segments") == 401
        assert _get(web_port, "/segments", "wrong") == 401
        assert _get(web_port, "/customers/c1", token) == 200
        assert _get(web_port, "/segments", token) == 200
        stack.stop_all()
        log = stack.worker_log()
        for secret in (WORKER_PASSWORD, ADMIN_PASSWORD, token):
            assert secret not in log
        await admin.aclose()


def test_wrong_redis_password_fails_fast_with_a_clear_error(stack: Stack, tmp_path: Path) -> None:
    with own_redis(tmp_path, "--requirepass", ADMIN_PASSWORD) as server:
        env = stack.env(STREAMAPP_REDIS_URL=server.url, STREAMAPP_REDIS_PASSWORD="wrong-pw")
        started = time.monotonic()
        worker = subprocess.run([sys.executable, "-m", "streamapp", "worker"], env=env,
                                capture_output=True, timeout=60)
        assert worker.returncode == 1
        assert b"rejected the credentials" in worker.stderr
        assert b"wrong-pw" not in worker.stderr + worker.stdout
        profile = subprocess.run([sys.executable, "-m", "streamapp", "profile", "c1"], env=env,
                                 capture_output=True, timeout=60)
        assert profile.returncode == 1 and b"Redis" in profile.stderr
        no_password = subprocess.run(
            [sys.executable, "-m", "streamapp", "forget", "c1"],
            env=stack.env(STREAMAPP_REDIS_URL=server.url), capture_output=True, timeout=60)
        assert no_password.returncode == 1 and b"Redis" in no_password.stderr
        assert time.monotonic() - started < 60
