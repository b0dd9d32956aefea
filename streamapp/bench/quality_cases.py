"""Synthetic persona streams for the quality benchmark, in the pipeline's feature units.

Each case is a population of customers drawn from personas (points around a persona's centre on
the ``log1p`` scales of ``core/features.py``) and a stream of events: each event is one customer
seen again, with its features jittered by far less than ``EPSILON`` — so any change of segment
on such an event is flapping. In a shift case one persona moves to a new place halfway through
(its customers change habits), and its customers are redrawn there.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]

# Features moved less than this (log units) between two sightings count as unmoved.
EPSILON = 0.01
_JITTER = 0.001

# monetary, frequency, recency, activity, browsing (log1p of revenue, orders, days, events, pages)
PERSONA_CENTRES = np.array([
    [6.0, 2.5, 1.0, 4.0, 3.0],   # big spender
    [4.0, 1.5, 2.2, 3.0, 2.0],   # regular
    [2.6, 1.6, 1.6, 3.2, 2.8],   # bargain hunter
    [0.0, 0.0, 1.8, 3.0, 3.4],   # window shopper
    [3.6, 0.8, 4.6, 2.0, 1.2],   # dormant
    [0.3, 0.1, 0.5, 1.2, 1.0],   # new customer
])
_SHARES_SKEWED = np.array([0.05, 0.30, 0.17, 0.20, 0.15, 0.13])
_SHIFTED_PERSONA = 1  # regulars change: bigger baskets, long gaps, fewer visits
_SHIFT = np.array([1.5, 0.5, 2.5, -1.5, 1.0])


@dataclass(frozen=True)
class Case:
    """One benchmark stream: its shape, seed and size."""

    shape: str
    seed: int
    customers: int = 3000
    events: int = 30_000
    batch: int = 250

    @property
    def name(self) -> str:
        return f"{self.shape}/{self.seed}"

    @property
    def shift_at(self) -> int | None:
        """Event index at which one persona moves (None for stationary shapes)."""
        return self.events // 2 if self.shape == "shift" else None


@dataclass
class Stream:
    """A case made concrete: who each event is, and every customer's features over time."""

    case: Case
    labels: IntArray  # true persona per customer
    before: FloatArray  # customers' features before any shift
    after: FloatArray  # and after it (equal to `before` in stationary cases)
    order: IntArray  # customer of each event
    jitter: FloatArray  # per-event noise, far below EPSILON

    def points(self, start: int, stop: int) -> FloatArray:
        """Feature rows of events ``start:stop``."""
        index = np.arange(start, stop)
        shifted = self.case.shift_at is not None and start >= self.case.shift_at
        base = self.after if shifted else self.before
        return np.asarray(base[self.order[index]] + self.jitter[index])

    def final(self) -> tuple[FloatArray, IntArray]:
        """The population as it ends, with its true personas (the evaluation set)."""
        return self.after, self.labels


SHAPES = ("balanced", "skewed", "elongated", "shift")


def make_stream(case: Case) -> Stream:
    """Draw the population and event order of `case` (deterministic in its seed).

    >>> stream = make_stream(Case("shift", seed=1, customers=60, events=400, batch=50))
    >>> stream.points(0, 50).shape, bool((stream.before != stream.after).any())
    ((50, 5), True)
    """
    rng = np.random.default_rng(case.seed)
    k, d = PERSONA_CENTRES.shape
    shares = _SHARES_SKEWED if case.shape == "skewed" else np.full(k, 1.0 / k)
    labels = rng.choice(k, size=case.customers, p=shares).astype(np.intp)
    noise = rng.normal(size=(case.customers, d))
    if case.shape == "elongated":
        # Spend and orders vary together and much more than the rest, as real baskets do.
        mix = np.array([[0.9, 0.5, 0, 0, 0], [0, 0.35, 0, 0, 0], [0, 0, 0.25, 0, 0],
                        [0, 0, 0, 0.25, 0.15], [0, 0, 0, 0, 0.25]])
        noise = noise @ mix
    else:
        noise = noise * 0.35
    before = np.maximum(PERSONA_CENTRES[labels] + noise, 0.0)
    after = before.copy()
    if case.shape == "shift":
        moved = labels == _SHIFTED_PERSONA
        after[moved] = np.maximum(before[moved] + _SHIFT, 0.0)
    order = rng.integers(0, case.customers, size=case.events).astype(np.intp)
    jitter = rng.uniform(-_JITTER, _JITTER, size=(case.events, d))
    return Stream(case, labels, before, after, order, jitter)


def all_cases(seeds: tuple[int, ...] = (1, 2, 3)) -> list[Case]:
    """Every shape with every seed.

    >>> [c.name for c in all_cases(seeds=(7,))]
    ['balanced/7', 'skewed/7', 'elongated/7', 'shift/7']
    """
    return [Case(shape, seed) for shape in SHAPES for seed in seeds]
