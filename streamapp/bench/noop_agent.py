"""Baseline (a) of ``streamapp bench throughput``: a Faust agent that takes batches, nothing else.

It consumes the same topic as the worker with the same Faust options (``stream_options``) and the
same ``take_events`` call, so its rate is the framework's ceiling on this machine: whatever the
worker does per batch can only subtract from it. Run as its own process, as the worker is::

    STREAMAPP_EVENTS_TOPIC=... STREAMAPP_APP_ID=... python -m streamapp.bench.noop_agent
"""

from __future__ import annotations

from typing import Any

import faust

from streamapp.settings import Settings
from streamapp.worker.app import faust_app, run_faust


def create_noop_app(settings: Settings) -> faust.App:
    """A Faust app with one agent that acknowledges batches of ``settings.batch_size``."""
    app, events = faust_app(settings, web_enabled=False)

    @app.agent(events)
    async def noop(stream: Any) -> None:
        async for _batch in stream.take_events(settings.batch_size, within=settings.batch_window):
            pass

    return app


def main() -> None:
    """Run the no-op agent until terminated."""
    app = create_noop_app(Settings())
    run_faust(app)


if __name__ == "__main__":
    main()
