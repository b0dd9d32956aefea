"""The worker's HTTP endpoints and the token rule, on a real worker."""

from __future__ import annotations

import base64

import orjson
import pytest
from redis.asyncio import Redis

from tests.integration.conftest import Stack, wait_until
from tests.integration.http_helpers import start_web_worker
from tests.integration.kafka_helpers import create_topic, event_records, publish
from tests.integration.truth import make_events

pytestmark = pytest.mark.integration
TOKEN = "t0ken-for-tests"
GUARDED = ["/", "/readyz", "/segments", "/model", "/metrics", "/customers/c1",
           "/dashboard/live", "/dashboard/sample", "/static/dashboard.js"]


async def test_every_endpoint_but_healthz_needs_the_token(stack: Stack, redis: Redis) -> None:
    await create_topic(stack.services.kafka_bootstrap, stack.events_topic)
    web = await start_web_worker(stack, token=TOKEN)
    await publish(stack.services.kafka_bootstrap, stack.events_topic,
                  event_records(make_events(customers=20, count=200, seed=5)))
    await wait_until(lambda: web.answers("/customers/c1"), 60, "c1 was not processed",
                     stack.worker_log, stack)

    async def merged() -> bool:
        # The model merge and the dashboard's totals follow the profiles within half a second.
        model = orjson.loads((await web.get("/model"))[1])
        live = orjson.loads((await web.get("/dashboard/live"))[1])
        return bool(model["version"] > 0 and live["stats"]["events"] > 0)

    await wait_until(merged, 10, "the model was not merged or the totals not added",
                     stack.worker_log, stack)

    assert (await web.get("/healthz", headers={}))[0] == 200
    basic = "Basic " + base64.b64encode(f"anyone:{TOKEN}".encode()).decode()
    for path in GUARDED:
        status, _, headers = await web.get(path, headers={})
        assert status == 401, path
        assert headers["WWW-Authenticate"].startswith("Basic")
        assert (await web.get(path, headers={"Authorization": "Bearer wrong"}))[0] == 401, path
        assert (await web.get(path))[0] == 200, path
        assert (await web.get(path, headers={"Authorization": basic}))[0] == 200, path

    status, body, _ = await web.get("/customers/c1")
    assert orjson.loads(body)["customer_id"] == "c1"
    assert (await web.get("/customers/nobody"))[0] == 404
    segments = orjson.loads((await web.get("/segments"))[1])
    assert segments["customers_total"] == 20
    model = orjson.loads((await web.get("/model"))[1])
    assert model["version"] > 0 and isinstance(model["segments"], list)
    status, page, headers = await web.get("/")
    assert b"/static/dashboard.js" in page and headers["Content-Type"].startswith("text/html")
    assert (await web.get("/static/..%2Fviews.py"))[0] == 404
    assert (await web.get("/static/nothing.js"))[0] == 404
    # Faust's own pages would bypass the token: they are switched off.
    assert (await web.get("/router/"))[0] == 404
    assert (await web.get("/table/"))[0] == 404

    live = orjson.loads((await web.get("/dashboard/live"))[1])
    assert live["stats"]["events"] > 0 and live["customers_total"] == 20
    centres = {s["id"] for s in live["segments"] if s["centre"] is not None}
    assert centres == {s["id"] for s in model["segments"]}
    sample = orjson.loads((await web.get("/dashboard/sample"))[1])
    assert sample["sampled"] == 20 and len(sample["projection"]) == 20
    assert set(sample["histograms"]) == {"revenue", "orders", "days since order", "events",
                                         "page views"}
