"""Baseline (a) of ``streamapp bench throughput``: a Faust agent that takes batches, nothing else.

It consumes the same topic as the worker, in batches of the same size and window, through a Faust
stream (``take_events``): its rate is what any pipeline built on Faust's streams can reach on this
machine. The worker reads with aiokafka's ``getmany`` instead (``streamapp/worker/consumer.py``),
so it can pass this ceiling. Run as its own process, as the worker is::

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
