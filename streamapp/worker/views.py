"""The worker's HTTP endpoints (DESIGN.md): dashboard, metrics, health, segments, profiles, model.

With ``STREAMAPP_API_TOKEN`` set, everything but ``/healthz`` needs the token, as
``Authorization: Bearer <token>`` (scripts, Prometheus) or as the password of HTTP Basic
authentication (any user name): a browser asks for it once and sends it with every request of the
dashboard, so the token never has to appear in a URL, where access logs would keep it.
"""

from __future__ import annotations

import base64
import binascii
import hmac
from collections.abc import Callable, Collection
from importlib import resources
from typing import Any

import faust
from faust.web import Request, Response, View

from streamapp.pipeline.lookup import Lookup
from streamapp.settings import Settings
from streamapp.store.client import connect_redis
from streamapp.store.keys import Keys
from streamapp.worker.dashboard import DashboardFeed, live_view, sample_view
from streamapp.worker.metrics import CONTENT_TYPE, WorkerMetrics
from streamapp.worker.runtime import Runtime

STATIC_TYPES = {"html": "text/html", "js": "text/javascript", "css": "text/css",
                "svg": "image/svg+xml"}


def token_matches(header: str, token: str) -> bool:
    """Whether an Authorization header carries ``token``, as Bearer or as a Basic password.

    >>> token_matches("Bearer s3", "s3"), token_matches("Bearer nope", "s3")
    (True, False)
    >>> basic = "Basic " + base64.b64encode(b"ops:s3").decode()
    >>> token_matches(basic, "s3"), token_matches("Basic !!", "s3")
    (True, False)
    """
    scheme, _, credentials = header.partition(" ")
    if scheme.lower() == "bearer":
        return hmac.compare_digest(credentials.strip().encode(), token.encode())
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(credentials.strip(), validate=True)
        except (binascii.Error, ValueError):
            return False
        return hmac.compare_digest(decoded.partition(b":")[2], token.encode())
    return False


def static_asset(name: str) -> tuple[bytes, str] | None:
    """The bytes and content type of a file of the dashboard, None for anything else.

    >>> static_asset("../settings.py") is None, static_asset("dashboard.js")[1]
    (True, 'text/javascript')
    """
    kind = name.rsplit(".", 1)[-1]
    if "/" in name or "\\" in name or name.startswith(".") or kind not in STATIC_TYPES:
        return None
    asset = resources.files("streamapp.worker") / "static" / name
    if not asset.is_file():
        return None
    return asset.read_bytes(), STATIC_TYPES[kind]


def register_views(app: faust.App, settings: Settings, runtime: Callable[[], Runtime | None],
                   metrics: WorkerMetrics | None = None, *,
                   assignment: Callable[[], Collection[Any]]) -> None:
    """Add the HTTP views to ``app``; all but /healthz need the token when one is set."""
    holder: dict[str, Any] = {}
    worker_metrics = metrics or WorkerMetrics()

    def lookup() -> Lookup:
        if "lookup" not in holder:
            holder["lookup"] = Lookup(settings, connect_redis(settings))
        found: Lookup = holder["lookup"]
        return found

    def feed() -> DashboardFeed:
        return DashboardFeed(lookup().redis, Keys(settings.redis_prefix))

    def authorised(request: Request) -> bool:
        if settings.api_token is None:
            return True
        return token_matches(request.headers.get("Authorization", ""),
                             settings.api_token.get_secret_value())

    def denied(view: View) -> Response:
        # The Basic challenge makes a browser ask for the token; scripts send Bearer anyway.
        return view.json({"error": "missing or wrong token: send 'Authorization: Bearer "
                          "<STREAMAPP_API_TOKEN>' (a browser asks for it as a password)"},
                         status=401, headers={"WWW-Authenticate": 'Basic realm="streamapp"'})

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
        if not assignment():
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
        segmenter = await lookup().segmenter()
        if segmenter is None:
            return view.json({"version": 0, "segments": []})
        names = segmenter.names()
        centres = segmenter.model.centres_original().tolist() if names else []
        return view.json({
            "version": segmenter.version,
            "features": list(segmenter.model.features or ()),
            "segments": [{"id": i, "name": names.get(i), "centre": c}
                         for i, c in zip(segmenter.model.centre_ids, centres, strict=False)],
        })

    @app.page("/metrics")
    async def prometheus(view: View, request: Request) -> Response:
        if not authorised(request):
            return denied(view)
        # Passed as a header: aiohttp refuses a charset inside content_type, Prometheus wants it.
        return view.bytes(worker_metrics.render(), headers={"Content-Type": CONTENT_TYPE})

    @app.page("/")
    async def dashboard(view: View, request: Request) -> Response:
        if not authorised(request):
            return denied(view)
        page = static_asset("index.html")
        assert page is not None, "the dashboard's index.html is part of the package"
        return view.bytes(page[0], content_type=page[1])

    @app.page("/static/{name}")
    async def static(view: View, request: Request, name: str) -> Response:
        if not authorised(request):
            return denied(view)
        asset = static_asset(name)
        if asset is None:
            return view.json({"error": f"no file {name!r}"}, status=404)
        return view.bytes(asset[0], content_type=asset[1])

    @app.page("/dashboard/live")
    async def live(view: View, request: Request) -> Response:
        if not authorised(request):
            return denied(view)
        return view.json(await live_view(lookup(), feed()))

    @app.page("/dashboard/sample")
    async def sample(view: View, request: Request) -> Response:
        if not authorised(request):
            return denied(view)
        return view.json(await sample_view(lookup()))
