"""``streamapp forward --webhook URL``: deliver change events to an HTTP receiver, signed.

Every change on ``segment-changes`` is POSTed as its JSON, with an HMAC-SHA256 signature of the
body (``X-Streamapp-Signature-256``, keyed by ``STREAMAPP_WEBHOOK_SECRET``) and its ``event_id``
(``X-Streamapp-Event-Id``). Failures are retried with backoff for as long as it takes; offsets
are committed only after a 2xx answer, so stopping and starting again loses nothing.
"""

from __future__ import annotations

import asyncio
from urllib.parse import urlsplit

import typer
from aiokafka.errors import KafkaError
from rich.console import Console
from rich.live import Live
from rich.markup import escape
from rich.text import Text

from streamapp.cli.errors import EXPLAINED, fail
from streamapp.forwarder.delivery import ForwardStats, PermanentFailure, Webhook, forward_changes
from streamapp.settings import get_settings


def status_line(url: str, stats: ForwardStats) -> Text:
    """One line of what the forwarder did so far.

    >>> str(status_line("http://h/x", ForwardStats(delivered=3, retries=1, last_problem="503")))
    'forwarding to http://h/x · 3 delivered · 0 filtered out · 1 retries (last: 503)'
    """
    line = (f"forwarding to {url} · {stats.delivered:,} delivered · "
            f"{stats.filtered:,} filtered out · {stats.retries:,} retries")
    if stats.last_problem:
        line += f" (last: {stats.last_problem[:80]})"
    return Text(line)


async def _run(url: str, hook: Webhook, group: str, start: str, kinds: list[str],
               segments: list[str], console: Console) -> None:
    stats = ForwardStats()
    settings = get_settings()
    with Live(status_line(url, stats), console=console, refresh_per_second=2) as live:
        task = asyncio.create_task(forward_changes(
            settings, hook, group=group, start=start, kinds=kinds, segments=segments, stats=stats))
        while not task.done():
            await asyncio.wait({task}, timeout=0.5)
            live.update(status_line(url, stats))
        task.result()


def forward(
    webhook: str = typer.Option(..., "--webhook", metavar="URL", help="receiver's http(s) URL"),
    kind: list[str] = typer.Option([], help="only changes of this kind (cluster, audience); "
                                   "repeatable"),
    segment: list[str] = typer.Option([], help="only changes into or out of this segment; "
                                      "repeatable"),
    group: str | None = typer.Option(None, help="Kafka consumer group [default: <app id>-forward]"),
    start: str = typer.Option("earliest", help="where a new group starts: earliest or latest"),
    unsigned: bool = typer.Option(False, "--unsigned",
                                  help="send without a signature when no secret is set"),
) -> None:
    """Forward change events to a webhook: signed, retried, committed only after 2xx.

    Runs until Ctrl-C. Restarting resumes after the last change the receiver confirmed; the
    receiver drops repeats by event_id. Exit code 1 when the receiver refuses a change (4xx).
    """
    settings = get_settings()
    if urlsplit(webhook).scheme not in ("http", "https") or not urlsplit(webhook).netloc:
        raise typer.BadParameter(f"{webhook!r} is not an http(s) URL", param_hint="--webhook")
    if start not in ("earliest", "latest"):
        raise typer.BadParameter("use earliest or latest", param_hint="--start")
    bad_kinds = sorted(set(kind) - {"cluster", "audience"})
    if bad_kinds:
        raise typer.BadParameter(f"unknown kind {bad_kinds[0]!r}: use cluster or audience",
                                 param_hint="--kind")
    secret = settings.webhook_secret
    if secret is None and not unsigned:
        fail("no signing secret: set STREAMAPP_WEBHOOK_SECRET (the receiver verifies the "
             "X-Streamapp-Signature-256 header with it), or pass --unsigned")
    hook = Webhook(webhook, secret.get_secret_value() if secret else None,
                   settings.webhook_timeout, settings.webhook_max_backoff)
    console = Console(stderr=True)
    try:
        asyncio.run(_run(webhook, hook, group or f"{settings.app_id}-forward", start, kind,
                         segment, console))
    except KeyboardInterrupt:
        console.print("stopped; the next run resumes after the last confirmed change")
    except PermanentFailure as error:
        fail(f"{escape(str(error))} — fix the receiver and run again; nothing after this "
             "change was committed")
    except EXPLAINED as error:
        fail(str(error))
    except KafkaError as error:
        fail(f"reading {settings.changes_topic} failed: {error}")


def register(app: typer.Typer) -> None:
    """Add ``forward`` to the command line."""
    app.command("forward")(forward)
