"""What "now" means: the event-time watermark, or the wall clock when configured.

With event time, now is the newest event time seen, so replaying last year's history gives the
same answers as living through it. A single event stamped far in the future would drag the
watermark with it, so event times are clamped to ``max_lead_ms`` ahead of the wall clock first.

>>> w = Watermark(mode="event")
>>> w.observe([1_000, 5_000, 3_000]); w.now_ms()
5000
>>> w.observe([2_000]); w.now_ms()
5000
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Literal

# Producers' clocks drift; a day of lead absorbs that without letting a typo in the year through.
DEFAULT_MAX_LEAD_MS = 86_400_000


def wall_clock_ms() -> int:
    """The system clock in epoch milliseconds."""
    return time.time_ns() // 1_000_000


@dataclass
class Watermark:
    """The newest event time seen (event mode) or the system clock (wall mode)."""

    mode: Literal["event", "wall"] = "event"
    value_ms: int = 0
    max_lead_ms: int = DEFAULT_MAX_LEAD_MS
    wall: Callable[[], int] = field(default=wall_clock_ms, repr=False)

    def clamp(self, time_ms: int) -> int:
        """An event time no further ahead of the wall clock than ``max_lead_ms``.

        >>> Watermark(wall=lambda: 1_000, max_lead_ms=10).clamp(5_000)
        1010
        """
        return min(time_ms, self.wall() + self.max_lead_ms)

    def observe(self, times_ms: Iterable[int]) -> None:
        """Advance past the newest of ``times_ms`` (never backwards)."""
        self.value_ms = max(self.value_ms, max(times_ms, default=0))

    def now_ms(self) -> int:
        """Now, in epoch milliseconds."""
        return self.wall() if self.mode == "wall" else self.value_ms
