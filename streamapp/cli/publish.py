"""``streamapp publish FILE|-``: validate newline-delimited JSON events and publish the good ones.

Each line is checked with the same parser the worker uses, so what is rejected here would have
gone to the DLQ there; valid lines are sent byte for byte (fields streamapp ignores survive),
keyed by customer id so each customer's events stay in order on one partition.
"""

from __future__ import annotations

import asyncio
import os
import stat
import sys
import threading
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Annotated, cast

import orjson
import typer
from aiokafka.errors import KafkaError
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeElapsedColumn

from streamapp.cli.errors import EXPLAINED, fail, stderr
from streamapp.events import parse_event
from streamapp.kafka.producer import KafkaPublisher
from streamapp.kafka.topics import ensure_topics
from streamapp.settings import Settings, get_settings

SHOWN_REJECTIONS = 20
_BLOCK = 256 * 1024
# Blocks read ahead of the sender; bounds memory when Kafka is slower than the disk.
_READ_AHEAD = 8


def describe_error(error: Exception) -> str:
    """One line saying why an event was refused, in the wire's field names.

    >>> try:
    ...     parse_event(b'{"type": "track", "userId": "u1"}')
    ... except ValueError as error:
    ...     describe_error(error)
    'event: Field required'
    >>> try:
    ...     parse_event(b"{'type': 'page'}")
    ... except ValueError as error:
    ...     describe_error(error).split(":")[0]
    'invalid JSON'
    """
    if isinstance(error, orjson.JSONDecodeError):
        return f"invalid JSON: {error}"
    if not isinstance(error, ValidationError):
        return str(error)
    reasons = []
    for detail in error.errors():
        if detail["type"] == "union_tag_not_found":
            reasons.append('missing "type" (track, identify, page, screen or alias)')
            continue
        if detail["type"] == "model_attributes_type":
            reasons.append("not a JSON object")
            continue
        # The first element of a location is the union's tag ("track"), not a field.
        where = ".".join(str(part) for part in detail["loc"][1:])
        message = detail["msg"].removeprefix("Value error, ")
        reasons.append(f"{where}: {message}" if where else message)
    return "; ".join(reasons)


def check_line(line: bytes, max_bytes: int) -> tuple[bytes, bytes] | str:
    """``(key, value)`` for a line holding a valid event, else why it is refused.

    >>> check_line(b'{"type":"page","userId":"u1"}\\n', 65536)
    (b'u1', b'{"type":"page","userId":"u1"}')
    >>> check_line(b'{"type":"page"}', 65536)
    'an event needs userId or anonymousId'
    >>> check_line(b'{"type":"page","userId":"u1","name":"' + b"x" * 300 + b'"}', 256)
    'event is 339 bytes, more than STREAMAPP_MAX_EVENT_BYTES=256'
    """
    value = line.strip()
    if len(value) > max_bytes:
        return f"event is {len(value)} bytes, more than STREAMAPP_MAX_EVENT_BYTES={max_bytes}"
    try:
        event = parse_event(value)
    except ValueError as error:  # pydantic's ValidationError and orjson's error are ValueErrors
        return describe_error(error)
    return event.customer_id.encode(), value


@dataclass(frozen=True)
class Rejection:
    line_number: int
    reason: str


@dataclass
class PublishReport:
    """What became of the input: lines read, events sent, the first rejections and their count."""

    lines: int = 0
    sent: int = 0
    rejected: int = 0
    first_rejections: list[Rejection] = field(default_factory=list)

    def reject(self, line_number: int, reason: str) -> None:
        self.rejected += 1
        if len(self.first_rejections) < SHOWN_REJECTIONS:
            self.first_rejections.append(Rejection(line_number, reason))


async def read_available(fd: int) -> AsyncIterator[bytes]:
    """The bytes of file descriptor ``fd``, each time all read so far; ``b""`` last, at its end.

    Why a daemon thread: files, pipes and terminals all block on read; the thread keeps the
    event loop (and the producer's sender) running meanwhile, and a process stopped with
    Ctrl-C while stdin is idle does not wait for it. It reads the descriptor, not a Python
    file object, because a daemon thread blocked inside a buffered reader's lock aborts the
    interpreter at exit.
    """
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[bytes | BaseException] = asyncio.Queue()
    slots = threading.Semaphore(_READ_AHEAD)

    def pump() -> None:
        while True:
            slots.acquire()
            block: bytes | BaseException
            try:
                block = os.read(fd, _BLOCK)  # what is there, without waiting to fill _BLOCK
            except Exception as error:
                block = error
            try:
                loop.call_soon_threadsafe(queue.put_nowait, block)
            except RuntimeError:  # the loop is closed: nobody reads any more
                return
            if not block or isinstance(block, BaseException):
                return

    threading.Thread(target=pump, name="publish-reader", daemon=True).start()
    finished = False
    while not finished:
        blocks = [await queue.get()]
        while not queue.empty():
            blocks.append(queue.get_nowait())
        for _ in blocks:
            slots.release()
        for block in blocks:
            if isinstance(block, BaseException):
                raise block
        data = b"".join(cast(list[bytes], blocks))
        if data:
            yield data
        finished = not blocks[-1]
    yield b""


async def publish_stream(
    fd: int,
    settings: Settings,
    on_progress: Callable[[int], None] = lambda consumed: None,
) -> PublishReport:
    """Validate each line read from ``fd``; publish the valid events to the input topic.

    ``on_progress(bytes consumed so far)`` is called after each batch is acknowledged.
    """
    report = PublishReport()
    consumed = 0
    partial = b""
    async with KafkaPublisher.from_settings(settings) as publisher:
        async for data in read_available(fd):
            if data:
                lines = (partial + data).split(b"\n")
                partial = lines.pop()  # unfinished until its newline arrives
            else:  # end of input: a last line without a newline still counts
                lines, partial = ([partial] if partial else []), b""
            records = []
            for line in lines:
                report.lines += 1
                if not line.strip():
                    continue
                checked = check_line(line, settings.max_event_bytes)
                if isinstance(checked, str):
                    report.reject(report.lines, checked)
                else:
                    records.append(checked)
            report.sent += await publisher.send_many(records, settings.events_topic)
            consumed += len(data)
            on_progress(consumed)
    return report


def _size_of(fd: int) -> int | None:
    info = os.fstat(fd)
    return info.st_size if stat.S_ISREG(info.st_mode) else None


def publish(
    source: Annotated[
        str, typer.Argument(metavar="FILE|-", help="newline-delimited JSON events; - reads stdin")
    ],
) -> None:
    """Validate Segment-spec events, one JSON object a line, and publish the valid ones.

    Events go to the input topic (STREAMAPP_EVENTS_TOPIC), keyed by customer id, byte for byte.

    Blank lines are skipped; refused lines are listed with their line number and reason.

    Exit code 0 when every event was sent, 1 when some lines were refused or Kafka failed.
    """
    settings = get_settings()
    console = Console()
    if source == "-":
        fd, name = sys.stdin.fileno(), "stdin"
    else:
        try:
            fd, name = os.open(source, os.O_RDONLY), source
        except OSError as error:
            fail(f"cannot read {source}: {error.strerror}")
    columns = (
        TextColumn(f"[bold]publishing {escape(name)}"),
        BarColumn(),
        DownloadColumn(),
        TimeElapsedColumn(),
    )
    try:
        asyncio.run(ensure_topics(settings))
        with Progress(*columns, console=console, disable=source == "-") as progress:
            task = progress.add_task("publish", total=_size_of(fd))
            began = time.monotonic()
            report = asyncio.run(
                publish_stream(fd, settings, lambda done: progress.update(task, completed=done))
            )
            seconds = time.monotonic() - began
    except EXPLAINED as error:
        fail(str(error))
    except KafkaError as error:
        fail(f"publishing to {settings.events_topic} failed: {error}")
    except KeyboardInterrupt:
        fail("interrupted before the end of the input; events read until then may have been sent")
    finally:
        if source != "-":
            os.close(fd)
    for rejection in report.first_rejections:
        stderr.print(
            f"line {rejection.line_number}: {rejection.reason}", markup=False, soft_wrap=True
        )
    if report.rejected > len(report.first_rejections):
        stderr.print(f"… and {report.rejected - len(report.first_rejections):,} more")
    console.print(
        f"sent {report.sent:,} events to [bold]{escape(settings.events_topic)}[/] "
        f"from {escape(name)} in {seconds:.1f} s "
        f"({report.sent / max(seconds, 1e-9):,.0f} events/s); "
        f"{report.rejected:,} of {report.lines:,} lines refused"
    )
    if report.rejected:
        raise typer.Exit(code=1)


def register(app: typer.Typer) -> None:
    """Add ``publish`` to the command line."""
    app.command("publish")(publish)
