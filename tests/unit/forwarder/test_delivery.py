"""One webhook delivery against a local receiver: retries, signature, permanent refusals."""

from __future__ import annotations

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from streamapp.forwarder.delivery import PermanentFailure, Webhook
from streamapp.forwarder.signing import verify


async def test_retries_until_a_2xx_then_stops() -> None:
    answers = [503, 500, 204]
    seen: list[tuple[bytes, str]] = []

    async def handle(request: web.Request) -> web.Response:
        seen.append((await request.read(), request.headers["X-Streamapp-Signature-256"]))
        return web.Response(status=answers[len(seen) - 1])

    app = web.Application()
    app.router.add_post("/", handle)
    async with TestServer(app) as server, aiohttp.ClientSession() as session:
        hook = Webhook(str(server.make_url("/")), "k", timeout=5, max_backoff=0.01)
        problems: list[str] = []
        await hook.deliver(session, b'{"event_id":"e"}', "e", problems.append)
    assert len(seen) == 3 and len(problems) == 2 and problems[0].startswith("HTTP 503")
    assert all(verify(body, header, "k") for body, header in seen)


async def test_a_4xx_is_not_retried() -> None:
    async def handle(request: web.Request) -> web.Response:
        return web.Response(status=422, text="bad schema")

    app = web.Application()
    app.router.add_post("/", handle)
    async with TestServer(app) as server, aiohttp.ClientSession() as session:
        hook = Webhook(str(server.make_url("/")), None, timeout=5, max_backoff=0.01)
        with pytest.raises(PermanentFailure, match="422: bad schema"):
            await hook.deliver(session, b"{}", "e", lambda problem: None)


async def test_an_unreachable_receiver_is_retried() -> None:
    problems: list[str] = []

    class Stop(Exception):
        pass

    def on_retry(problem: str) -> None:
        problems.append(problem)
        if len(problems) == 2:
            raise Stop

    async with aiohttp.ClientSession() as session:
        hook = Webhook("http://127.0.0.1:9/", None, timeout=1, max_backoff=0.01)
        with pytest.raises(Stop):
            await hook.deliver(session, b"{}", "e", on_retry)
    assert len(problems) == 2
