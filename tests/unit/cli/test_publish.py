"""``streamapp publish``: line validation, line numbers, batching of the input, exit codes."""

from __future__ import annotations

import asyncio
import os
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from types import TracebackType
from typing import Any, ClassVar

import orjson
import pytest
import typer
from typer.testing import CliRunner

from streamapp.cli import publish
from streamapp.cli.publish import SHOWN_REJECTIONS, check_line, publish_stream
from streamapp.settings import Settings

SETTINGS = Settings(_env_file=None, events_topic="events-under-test", max_event_bytes=512)
GOOD = b'{"type":"page","userId":"u1","timestamp":"2026-01-01T00:00:00Z"}'


class FakePublisher:
    """Stands in for KafkaPublisher: records what would have been sent."""

    instances: ClassVar[list[FakePublisher]] = []

    def __init__(self) -> None:
        self.records: list[tuple[str, bytes, bytes]] = []
        self.calls = 0

    @classmethod
    def from_settings(cls, settings: Settings, connect_timeout: float = 10.0) -> FakePublisher:
        publisher = cls()
        cls.instances.append(publisher)
        return publisher

    async def __aenter__(self) -> FakePublisher:
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        return None

    async def send_many(self, records: Iterable[tuple[bytes, bytes]], topic: str) -> int:
        self.calls += 1
        before = len(self.records)
        self.records.extend((topic, key, value) for key, value in records)
        return len(self.records) - before


@pytest.fixture(autouse=True)
def fake_kafka(monkeypatch: pytest.MonkeyPatch) -> None:
    FakePublisher.instances.clear()
    monkeypatch.setattr(publish, "KafkaPublisher", FakePublisher)

    async def no_topics(settings: Settings, names: Any = None, timeout: float = 10.0) -> list[str]:
        return []

    monkeypatch.setattr(publish, "ensure_topics", no_topics)
    monkeypatch.setattr(publish, "get_settings", lambda: SETTINGS)


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        (b'{"type":"page"}', "an event needs userId or anonymousId"),
        (b'{"type":"track","userId":"u1"}', "event: Field required"),
        (b'{"userId":"u1"}', 'missing "type"'),
        (b'{"type":"nope","userId":"u1"}', "Input tag 'nope'"),
        (b"[1, 2]", "not a JSON object"),
        (b"{oops", "invalid JSON"),
        (b"\xff\xfe", "invalid JSON"),
        (b'{"type":"page","userId":"u1","timestamp":"2026-01-01T00:00:00"}',
         "timestamp: Input should have timezone info"),
        (b'{"type":"track","userId":"u1","event":"Order Completed","properties":{"revenue":"9"}}',
         "properties.revenue must be a number"),
        (b'{"type":"alias","userId":"u1"}', "previousId: Field required"),
        (b'{"type":"page","userId":"u1","name":"' + b"x" * 600 + b'"}',
         "more than STREAMAPP_MAX_EVENT_BYTES=512"),
    ],
)
def test_bad_lines_say_why(line: bytes, reason: str) -> None:
    checked = check_line(line, SETTINGS.max_event_bytes)
    assert isinstance(checked, str)
    assert reason in checked


def test_good_lines_are_sent_unchanged_keyed_by_customer() -> None:
    line = b'  {"type":"identify","anonymousId":"a7","traits":{"x":1},"extra":true}\r\n'
    assert check_line(line, 512) == (b"a7", line.strip())
    assert check_line(b'{"type":"page","userId":12,"anonymousId":"a"}', 512)[0] == b"12"


def _publish_bytes(tmp_path: Path, data: bytes) -> tuple[publish.PublishReport, FakePublisher]:
    path = tmp_path / "events.jsonl"
    path.write_bytes(data)
    fd = os.open(path, os.O_RDONLY)
    try:
        report = asyncio.run(publish_stream(fd, SETTINGS))
    finally:
        os.close(fd)
    return report, FakePublisher.instances[-1]


def test_line_numbers_blank_lines_and_a_last_line_without_newline(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Tiny reads so that lines are split across reads.
    monkeypatch.setattr(publish, "_BLOCK", 7)
    data = b"\n".join([GOOD, b"", b"{bad", b"   ", GOOD.replace(b"u1", b"u2"), b'{"type":"page"}',
                       GOOD.replace(b"u1", b"u3")])
    report, publisher = _publish_bytes(tmp_path, data)
    assert (report.lines, report.sent, report.rejected) == (7, 3, 2)
    assert [r.line_number for r in report.first_rejections] == [3, 6]
    assert [key for _, key, _ in publisher.records] == [b"u1", b"u2", b"u3"]
    assert {topic for topic, _, _ in publisher.records} == {"events-under-test"}
    assert publisher.records[0][2] == GOOD


def test_a_trailing_newline_is_not_a_line(tmp_path: Path) -> None:
    report, _ = _publish_bytes(tmp_path, GOOD + b"\n" + GOOD + b"\n")
    assert (report.lines, report.sent, report.rejected) == (2, 2, 0)


def test_only_the_first_rejections_are_kept(tmp_path: Path) -> None:
    report, _ = _publish_bytes(tmp_path, b"{bad\n" * 50 + GOOD)
    assert report.rejected == 50 and report.sent == 1
    assert len(report.first_rejections) == SHOWN_REJECTIONS


def test_input_is_sent_in_batches_not_line_by_line(tmp_path: Path) -> None:
    report, publisher = _publish_bytes(tmp_path, (GOOD + b"\n") * 5000)
    assert report.sent == 5000
    assert publisher.calls < 50


def test_a_slow_pipe_is_sent_as_it_arrives() -> None:
    read_end, write_end = os.pipe()
    seen_before_end: list[int] = []

    def writer() -> None:
        os.write(write_end, GOOD + b"\n")
        time.sleep(0.5)
        seen_before_end.append(sum(len(p.records) for p in FakePublisher.instances))
        os.write(write_end, GOOD + b"\n")
        os.close(write_end)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        report = asyncio.run(publish_stream(read_end, SETTINGS))
    finally:
        thread.join()
        os.close(read_end)
    assert report.sent == 2
    assert seen_before_end == [1]


def _app() -> typer.Typer:
    app = typer.Typer(add_completion=False)
    publish.register(app)

    @app.callback()
    def main() -> None:
        """A one-command app, as streamapp.cli.main builds it."""

    return app


def test_command_exits_0_when_everything_was_sent(tmp_path: Path) -> None:
    path = tmp_path / "ok.jsonl"
    lines = (orjson.dumps({"type": "page", "userId": f"u{i}"}) for i in range(30))
    path.write_bytes(b"\n".join(lines))
    result = CliRunner().invoke(_app(), ["publish", str(path)])
    assert result.exit_code == 0, result.output
    assert "sent 30 events to events-under-test" in " ".join(result.output.split())


def test_command_exits_1_and_lists_refused_lines(tmp_path: Path) -> None:
    path = tmp_path / "mixed.jsonl"
    path.write_bytes(GOOD + b"\n{bad\n" + GOOD + b"\n" + b'{"type":"page"}\n' * 25)
    result = CliRunner().invoke(_app(), ["publish", str(path)])
    assert result.exit_code == 1
    output = " ".join(result.output.split())
    assert "line 2: invalid JSON" in output
    assert "line 4: an event needs userId or anonymousId" in output
    assert "line 22: an event" in output and "line 23:" not in output
    assert "and 6 more" in output
    assert "sent 2 events" in output and "26 of 28 lines refused" in output


def test_command_fails_clearly_on_a_missing_file(tmp_path: Path) -> None:
    result = CliRunner().invoke(_app(), ["publish", str(tmp_path / "nope.jsonl")])
    assert result.exit_code == 1
    assert "cannot read" in result.output


def test_help_documents_the_exit_codes() -> None:
    result = CliRunner().invoke(_app(), ["publish", "--help"])
    assert result.exit_code == 0
    output = " ".join(result.output.split())
    assert "Exit code 0" in output and "1 when some lines were refused" in output
