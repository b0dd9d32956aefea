"""``streamapp simulate``: pacing, stopping rules, and a ground truth equal to what was sent."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from types import TracebackType
from typing import Any

import orjson
import pytest
import typer
from typer.testing import CliRunner

from streamapp.cli import simulate
from streamapp.cli.simulate import Outcome, Plan, publish_simulation
from streamapp.settings import Settings
from streamapp.simulator import DEFAULT_START, GroundTruth, generate

SETTINGS = Settings(_env_file=None, events_topic="sim-under-test")


class FakePublisher:
    """Stands in for KafkaPublisher: keeps (key, event) of everything sent."""

    last: FakePublisher | None = None

    def __init__(self) -> None:
        self.sent: list[tuple[bytes, dict[str, Any]]] = []

    @classmethod
    def from_settings(cls, settings: Settings, connect_timeout: float = 10.0) -> FakePublisher:
        cls.last = cls()
        return cls.last

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
        assert topic == "sim-under-test"
        batch = [(key, orjson.loads(value)) for key, value in records]
        self.sent.extend(batch)
        await asyncio.sleep(0)
        return len(batch)


@pytest.fixture(autouse=True)
def fake_kafka(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(simulate, "KafkaPublisher", FakePublisher)

    async def no_topics(settings: Settings, names: Any = None, timeout: float = 10.0) -> list[str]:
        return []

    monkeypatch.setattr(simulate, "ensure_topics", no_topics)
    monkeypatch.setattr(simulate, "get_settings", lambda: SETTINGS)


def _run(plan: Plan) -> tuple[Outcome, GroundTruth, list[tuple[bytes, dict[str, Any]]]]:
    truth = GroundTruth()
    outcome = asyncio.run(publish_simulation(plan, SETTINGS, truth))
    assert FakePublisher.last is not None
    return outcome, truth, FakePublisher.last.sent


def _assert_truth_matches(truth: GroundTruth, sent: list[tuple[bytes, dict[str, Any]]]) -> None:
    per_customer = Counter(event["userId"] for _, event in sent)
    assert all(key.decode() == event["userId"] for key, event in sent)
    assert {cid: c.events_total for cid, c in truth.customers.items() if c.events_total} == dict(
        per_customer
    )


def test_events_cap_as_fast_as_possible() -> None:
    outcome, truth, sent = _run(Plan(80, 1, DEFAULT_START, 90.0, 0.0, 0.0, 700))
    assert outcome.sent == len(sent) == 700
    assert outcome.stopped_by == "--events 700"
    _assert_truth_matches(truth, sent)


def test_paced_by_event_time_the_span_plays_over_the_duration() -> None:
    began = time.monotonic()
    outcome, truth, sent = _run(Plan(30, 2, DEFAULT_START, 3.0, None, 1.0, None))
    took = time.monotonic() - began
    assert 0.7 < took < 2.5
    assert outcome.stopped_by == "end of the simulated span"
    assert [event for _, event in sent] == list(generate(30, 2, days=3.0))
    _assert_truth_matches(truth, sent)
    first_half = sum(1 for _, e in sent if e["timestamp"] < "2026-01-02T12:00:00")
    assert 0.2 < first_half / len(sent) < 0.8


def test_fixed_rate_is_kept_in_chunks() -> None:
    outcome, truth, sent = _run(Plan(300, 3, DEFAULT_START, 90.0, 2000.0, 0.5, None))
    assert outcome.stopped_by == "--duration 0.5"
    assert 800 <= outcome.sent <= 1400
    _assert_truth_matches(truth, sent)


def test_allowance_never_exceeds_the_rate_or_the_cap() -> None:
    plan = Plan(10, 1, DEFAULT_START, 90.0, 100.0, 0.0, 30)
    assert plan.allowance(0.0, 0) == 10
    assert plan.allowance(1.0, 25) == 5
    assert plan.allowance(0.0, 50) == 0


def _app() -> typer.Typer:
    app = typer.Typer(add_completion=False)
    simulate.register(app)

    @app.callback()
    def main() -> None:
        """A one-command app, as streamapp.cli.main builds it."""

    return app


def test_command_writes_the_ground_truth(tmp_path: Path) -> None:
    truth_file = tmp_path / "truth.json"
    result = CliRunner().invoke(
        _app(),
        ["simulate", "--customers", "40", "--rate", "0", "--events", "250", "--seed", "5",
         "--truth", str(truth_file), "--start", "2025-03-01T00:00:00+00:00"],
    )
    assert result.exit_code == 0, result.output
    assert "published 250 events" in " ".join(result.output.split())
    truth = orjson.loads(truth_file.read_bytes())
    assert truth["run"]["events_published"] == truth["totals"]["events_total"] == 250
    assert len(truth["customers"]) == 40
    assert FakePublisher.last is not None
    assert FakePublisher.last.sent[0][1]["timestamp"].startswith("2025-03-01")


def test_command_refuses_a_start_without_zone() -> None:
    result = CliRunner().invoke(_app(), ["simulate", "--start", "2026-01-01T00:00:00"])
    assert result.exit_code == 2
