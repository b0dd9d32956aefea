"""``streamapp simulate``: publish simulated customers' events to the input topic, paced.

The simulator's event time runs from ``--start`` over ``--days`` of simulated time. By default
publishing is paced by event time, so those days play out over ``--duration`` real seconds
(90 days in 60 s) and recency-based segments evolve while you watch; ``--rate`` paces by a
fixed number of events per second instead. Pacing is per tick of 0.1 s, never a sleep per event.
"""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import orjson
import typer
from aiokafka.errors import KafkaError
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

from streamapp.cli.errors import EXPLAINED, fail
from streamapp.kafka.producer import KafkaPublisher
from streamapp.kafka.topics import ensure_topics
from streamapp.settings import Settings, get_settings
from streamapp.simulator import DEFAULT_DAYS, DEFAULT_START, GroundTruth, generate

TICK = 0.1
# Most events taken per tick when nothing else limits it: bounds memory and keeps ticks short.
MAX_CHUNK = 5000


@dataclass(frozen=True)
class Plan:
    """What to simulate and how fast; ``rate`` None means paced by event time."""

    customers: int
    seed: int
    start: datetime
    days: float
    rate: float | None
    duration: float
    events: int | None

    @property
    def simulated_seconds_per_second(self) -> float | None:
        """Event-time speed when paced by event time, else None.

        >>> Plan(10, 1, DEFAULT_START, 90.0, None, 60.0, None).simulated_seconds_per_second
        129600.0
        """
        if self.rate is not None or self.duration <= 0:
            return None
        return self.days * 86_400 / self.duration

    def allowance(self, elapsed: float, sent: int) -> int:
        """How many events may go out now, ``elapsed`` s in with ``sent`` sent already.

        >>> Plan(10, 1, DEFAULT_START, 90.0, 100.0, 0.0, 50).allowance(0.5, 40)
        10
        >>> Plan(10, 1, DEFAULT_START, 90.0, 0.0, 0.0, None).allowance(0.5, 40)
        5000
        """
        limit = MAX_CHUNK
        if self.events is not None:
            limit = min(limit, self.events - sent)
        if self.rate:
            limit = min(limit, int(self.rate * (elapsed + TICK)) - sent)
        return max(limit, 0)


@dataclass
class Outcome:
    sent: int = 0
    seconds: float = 0.0
    first_event_at: str | None = None
    last_event_at: str | None = None
    stopped_by: str = "end of the simulated span"


def _event_ms(event: dict[str, Any]) -> float:
    return datetime.fromisoformat(event["timestamp"]).timestamp() * 1000


def _records(events: list[dict[str, Any]]) -> Iterator[tuple[bytes, bytes]]:
    for event in events:
        yield event["userId"].encode(), orjson.dumps(event)


async def publish_simulation(
    plan: Plan,
    settings: Settings,
    truth: GroundTruth,
    on_progress: Callable[[int, str, float], None] = lambda sent, at, share: None,
) -> Outcome:
    """Publish the plan's events to ``settings.events_topic`` (which must exist, see
    :func:`ensure_topics`); fill ``truth`` with exactly the events sent.

    ``on_progress(events sent, event time reached, share of the simulated span)`` is called
    after each chunk. Ctrl-C or SIGTERM stop it after the chunk in flight.
    """
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    source = generate(plan.customers, plan.seed, start=plan.start, days=plan.days, truth=truth)
    speed = plan.simulated_seconds_per_second
    start_ms = plan.start.timestamp() * 1000
    span_ms = plan.days * 86_400_000
    outcome = Outcome()
    # An event taken from the simulator but beyond this tick's event-time horizon. It is already
    # in the ground truth, so it is always published, even when the run stops.
    held: dict[str, Any] | None = None
    exhausted = False
    try:
        async with KafkaPublisher.from_settings(settings) as publisher:
            began = loop.time()
            while not stop.is_set():
                elapsed = loop.time() - began
                # Paced by event time, the span's end is the end: it comes at --duration.
                if speed is None and plan.duration > 0 and elapsed >= plan.duration:
                    outcome.stopped_by = f"--duration {plan.duration:g}"
                    break
                horizon = None if speed is None else start_ms + speed * (elapsed + TICK) * 1000
                batch: list[dict[str, Any]] = []
                limit = plan.allowance(elapsed, outcome.sent)
                while len(batch) < limit:
                    event = held if held is not None else next(source, None)
                    held = None
                    if event is None:
                        exhausted = True
                        break
                    if horizon is not None and _event_ms(event) > horizon:
                        held = event
                        break
                    batch.append(event)
                if batch:
                    outcome.sent += await publisher.send_many(
                        _records(batch), settings.events_topic
                    )
                    outcome.first_event_at = outcome.first_event_at or batch[0]["timestamp"]
                    outcome.last_event_at = batch[-1]["timestamp"]
                    event_share = (_event_ms(batch[-1]) - start_ms) / span_ms
                    on_progress(outcome.sent, outcome.last_event_at, event_share)
                if exhausted:
                    break
                if plan.events is not None and outcome.sent >= plan.events:
                    outcome.stopped_by = f"--events {plan.events}"
                    break
                if speed is not None or plan.rate:
                    await asyncio.sleep(max(0.0, began + elapsed + TICK - loop.time()))
            else:
                outcome.stopped_by = "interrupt"
            if held is not None:
                outcome.sent += await publisher.send_many(_records([held]), settings.events_topic)
                outcome.last_event_at = held["timestamp"]
            outcome.seconds = loop.time() - began
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)
    return outcome


@contextmanager
def _progress_bar(console: Console, plan: Plan) -> Iterator[Callable[[int, str, float], None]]:
    """A progress bar filled by whichever limit ends the run first: the span, time or count."""
    columns = (
        TextColumn("[bold]simulating"),
        BarColumn(),
        TaskProgressColumn(),
        TextColumn(
            "{task.fields[sent]:>9,} events · {task.fields[rate]:>7,.0f}/s · {task.fields[at]}"
        ),
        TimeElapsedColumn(),
    )
    began = time.monotonic()
    with Progress(*columns, console=console) as progress:
        task = progress.add_task("simulate", total=1.0, sent=0, rate=0.0, at="")

        def update(sent: int, at: str, event_share: float) -> None:
            elapsed = time.monotonic() - began
            shares = [event_share]
            if plan.duration > 0:
                shares.append(elapsed / plan.duration)
            if plan.events is not None:
                shares.append(sent / plan.events)
            rate = sent / elapsed if elapsed > 0 else 0.0
            progress.update(task, completed=min(1.0, max(shares)), sent=sent, rate=rate, at=at)

        yield update


def _parse_start(value: str) -> datetime:
    try:
        start = datetime.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"not an ISO-8601 time: {value!r}") from None
    if start.utcoffset() is None:
        raise typer.BadParameter("give a time zone, e.g. 2026-01-01T00:00:00Z")
    return start


def simulate(
    customers: Annotated[int, typer.Option(min=1, help="simulated customers")] = 1000,
    rate: Annotated[
        float | None,
        typer.Option(
            min=0,
            help="events per second; 0: as fast as possible. "
            "Default: paced by event time, so --days play out over --duration.",
        ),
    ] = None,
    duration: Annotated[
        float, typer.Option(min=0, help="stop after this many seconds (0: no time limit)")
    ] = 60.0,
    seed: Annotated[int, typer.Option(help="same seed and options, same events")] = 42,
    events: Annotated[int | None, typer.Option(min=1, help="stop after this many events")] = None,
    truth: Annotated[
        Path | None,
        typer.Option(
            dir_okay=False,
            help="write the ground truth (persona and totals per "
            "customer, of the events actually published) to this JSON file",
        ),
    ] = None,
    start: Annotated[
        str, typer.Option(help="event time of the simulation's start, ISO-8601 with zone")
    ] = DEFAULT_START.isoformat().replace("+00:00", "Z"),
    days: Annotated[
        float, typer.Option(min=0.001, help="simulated days of customer behaviour")
    ] = DEFAULT_DAYS,
) -> None:
    """Publish simulated customers' events (keyed by customer id) to the input topic.

    Personas: big spenders, regulars, bargain hunters, window shoppers, dormant, new customers.

    Stops at the first of: the end of the simulated span (--days), --duration seconds, --events.
    Ctrl-C stops it after the chunk in flight; --truth always matches the events sent.

    Exit code 0 when done (also after Ctrl-C), 1 when Kafka does not answer or refuses events.
    """
    settings = get_settings()
    plan = Plan(customers, seed, _parse_start(start), days, rate, duration, events)
    console = Console()
    ground_truth = GroundTruth()
    try:
        asyncio.run(ensure_topics(settings))
        with _progress_bar(console, plan) as on_progress:
            outcome = asyncio.run(publish_simulation(plan, settings, ground_truth, on_progress))
    except EXPLAINED as error:
        fail(str(error))
    except KafkaError as error:
        fail(f"publishing to {settings.events_topic} failed: {error}")
    except KeyboardInterrupt:  # before publishing began; once it runs, Ctrl-C ends it cleanly
        fail("interrupted")
    totals = ground_truth.totals()
    rate_done = outcome.sent / outcome.seconds if outcome.seconds else 0.0
    console.print(
        f"published {outcome.sent:,} events of {customers:,} customers to "
        f"[bold]{escape(settings.events_topic)}[/] in {outcome.seconds:.1f} s "
        f"({rate_done:,.0f} events/s); stopped by {outcome.stopped_by}"
    )
    console.print(
        f"event time {outcome.first_event_at or '-'} → {outcome.last_event_at or '-'} · "
        f"orders {totals['orders_total']:,} · revenue {totals['revenue_total']:,.2f} · "
        f"page views {totals['page_views']:,}"
    )
    if truth is not None:
        run = {
            "customers": customers,
            "seed": seed,
            "start": start,
            "days": days,
            "topic": settings.events_topic,
            "events_published": outcome.sent,
        }
        truth.write_bytes(
            orjson.dumps({"run": run, **ground_truth.as_dict()}, option=orjson.OPT_INDENT_2)
        )
        console.print(f"ground truth written to {escape(str(truth))}")


def register(app: typer.Typer) -> None:
    """Add ``simulate`` to the command line."""
    app.command("simulate")(simulate)
