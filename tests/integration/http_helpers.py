"""A worker with a known web port, and plain HTTP calls to it, for the tests of its endpoints."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
from dataclasses import dataclass

import aiohttp

from tests.integration.conftest import Stack, wait_until


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class WorkerWeb:
    """A running worker's base URL and the token it wants (None: no token)."""

    url: str
    token: str | None = None

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    async def get(self, path: str, headers: dict[str, str] | None = None,
                  ) -> tuple[int, bytes, dict[str, str]]:
        async with aiohttp.ClientSession() as session, session.get(
                self.url + path, headers=self.headers() if headers is None else headers,
                timeout=aiohttp.ClientTimeout(total=15)) as response:
            return response.status, await response.read(), dict(response.headers)

    async def answers(self, path: str) -> bool:
        try:
            status, _, _ = await self.get(path)
        except aiohttp.ClientError:
            return False
        return status == 200


async def start_web_worker(stack: Stack, token: str | None = None, **env: str) -> WorkerWeb:
    """Start a worker serving on a free port; return once it is ready."""
    port = free_port()
    overrides = {"STREAMAPP_WEB_PORT": str(port), **env}
    if token:
        overrides["STREAMAPP_API_TOKEN"] = token
    stack.start_worker(**overrides)
    web = WorkerWeb(f"http://127.0.0.1:{port}", token)
    await wait_until(lambda: web.answers("/readyz"), 60, "the worker did not become ready",
                     stack.worker_log, stack)
    return web


async def run_cli(stack: Stack, *args: str, timeout: float = 120, **env: str,
                  ) -> subprocess.CompletedProcess[str]:
    """Run ``streamapp ARGS`` against the test's topics and prefix, without blocking the loop."""
    command = [sys.executable, "-m", "streamapp", *args]
    return await asyncio.to_thread(
        subprocess.run, command, env=stack.env(**env), capture_output=True, text=True,
        timeout=timeout, stdin=subprocess.DEVNULL)
