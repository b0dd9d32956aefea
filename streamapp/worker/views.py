"""The worker's HTTP endpoints (DESIGN.md): health, readiness, segments, profiles, the model."""

from __future__ import annotations

import hmac
from collections.abc import Callable
from typing import Any

import faust
from faust.web import Request, Response, View

from streamapp.pipeline.lookup import Lookup
from streamapp.pipeline.model_report import model_report
from streamapp.settings import Settings
from streamapp.worker.runtime import Runtime, connect_redis


def register_views(app: faust.App, settings: Settings,
                   runtime: Callable[[], Runtime | None]) -> None:
    """Add the HTTP views to ``app``; all but /healthz need the bearer token when one is set."""
    lookup_holder: dict[str, Lookup] = {}

    def lookup() -> Lookup:
        if "lookup" not in lookup_holder:
            lookup_holder["lookup"] = Lookup(settings, connect_redis(settings))
        return lookup_holder["lookup"]

    def authorised(request: Request) -> bool:
        if settings.api_token is None:
            return True
        expected = f"Bearer {settings.api_token.get_secret_value()}"
        return hmac.compare_digest(request.headers.get("Authorization", ""), expected)

    def denied(view: View) -> Response:
        return view.json({"error": "missing or wrong bearer token: send "
                          "'Authorization: Bearer <STREAMAPP_API_TOKEN>'"}, status=401)

    @app.page("/healthz")
    async def healthz(view: View, request: Request) -> Response:
        return view.json({"status": "ok"})

    @app.page("/readyz")
    async def readyz(view: View, request: Request) -> Response:
        if not authorised(request):
            return denied(view)
        rt = runtime()
        reasons = []
        if rt is None:
            reasons.append("starting: the pipeline has not connected yet")
        elif not rt.health.ready:
            reasons.append(rt.health.degraded_reason or "degraded")
        try:
            await lookup().redis.ping()
        except Exception as exc:
            reasons.append(f"redis: {exc}")
        if not app.consumer.assignment():
            reasons.append("kafka: no partitions assigned yet")
        body: dict[str, Any] = {"ready": not reasons, "reasons": reasons}
        return view.json(body, status=200 if not reasons else 503)

    @app.page("/segments")
    async def segments(view: View, request: Request) -> Response:
        if not authorised(request):
            return denied(view)
        return view.json(await lookup().segments())

    @app.page("/customers/{customer_id}")
    async def customer(view: View, request: Request, customer_id: str) -> Response:
        if not authorised(request):
            return denied(view)
        profile = await lookup().profile(customer_id)
        if profile is None:
            return view.json({"error": f"no customer {customer_id!r}"}, status=404)
        return view.json(profile)

    @app.page("/model")
    async def model(view: View, request: Request) -> Response:
        if not authorised(request):
            return denied(view)
        return view.json(model_report(await lookup().segmenter()))
