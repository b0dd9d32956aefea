"""Concept drift on the model's inertia: notice when customers stop fitting the segments.

A stable population keeps its points at a steady distance from their nearest centre; when a kind
of customer changes behaviour (a persona moves), its points land far from every centre and the
mean squared distance jumps. River's ADWIN watches that stream of distances: it keeps an adaptive
window and reports a drift when two sub-windows have significantly different means. Every point
of a batch is fed (not one mean per batch) because batches vary from one event to a thousand, and
per-point values let ADWIN decide after tens of points instead of tens of batches; an update costs
about half a microsecond. Only a rise counts: a fall means the model fits better than before.
"""

from __future__ import annotations

from collections.abc import Iterable

from river import drift


class InertiaDrift:
    """Report when the squared distances of new points to their centres rise significantly.

    Parameters
    ----------
    delta
        ADWIN's confidence: smaller means fewer false alarms and later detection.
    cap
        Distances are clipped at this many standardized units squared, so one outlier customer
        (a whale) cannot raise an alarm on its own.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> watch = InertiaDrift()
    >>> watch.update(rng.chisquare(5, 5000) / 5)
    False
    >>> watch.update(rng.chisquare(5, 2000) / 5 * 3)
    True
    >>> watch.drifts
    1
    """

    def __init__(self, delta: float = 0.002, cap: float = 50.0) -> None:
        self.delta = delta
        self.cap = cap
        self.drifts = 0
        self._detector = drift.ADWIN(delta=delta)  # type: ignore[no-untyped-call]  # river is untyped

    @property
    def level(self) -> float:
        """The current estimate of the mean squared distance (0 before any point)."""
        return float(self._detector.estimation)

    def update(self, squared_distances: Iterable[float]) -> bool:
        """Feed the squared distances of a batch's points; True when they rose significantly."""
        detected = False
        for value in squared_distances:
            before = self._detector.estimation
            self._detector.update(min(float(value), self.cap))  # type: ignore[no-untyped-call]
            if self._detector.drift_detected and self._detector.estimation > before:
                detected = True
        if detected:
            self.drifts += 1
        return detected
