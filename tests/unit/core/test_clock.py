"""Event time by default: replaying history sees the same "now" as living through it."""

from __future__ import annotations

from streamapp.core.clock import Watermark


def test_event_time_never_goes_backwards() -> None:
    clock = Watermark(mode="event", wall=lambda: 10**13)
    for times in ([5, 9, 7], [3], [], [12]):
        clock.observe(times)
    assert clock.now_ms() == 12


def test_replay_gives_the_same_now_as_live() -> None:
    batches = [[1_000, 4_000], [2_000], [9_000, 8_000]]
    live, replay = Watermark(wall=lambda: 10**13), Watermark(wall=lambda: 10**15)
    for batch in batches:
        live.observe(batch)
    replay.observe([t for batch in batches for t in batch])
    assert live.now_ms() == replay.now_ms() == 9_000


def test_wall_mode_uses_the_system_clock() -> None:
    clock = Watermark(mode="wall", wall=lambda: 42)
    clock.observe([10**15])
    assert clock.now_ms() == 42


def test_far_future_event_times_are_clamped_to_the_allowed_lead() -> None:
    clock = Watermark(wall=lambda: 1_000, max_lead_ms=500)
    clock.observe([clock.clamp(10**15)])
    assert clock.now_ms() == 1_500
