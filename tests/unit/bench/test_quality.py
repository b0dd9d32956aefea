"""The quality benchmark runs end to end on a small case and reports every figure."""

from __future__ import annotations

import pytest

pytest.importorskip("sklearn", reason="the benchmark needs scikit-learn (the 'bench' extra)")

from streamapp.bench.quality import METHODS, run
from streamapp.bench.quality_cases import Case


def test_a_small_shift_case_reports_every_method() -> None:
    ticks: list[int] = []
    report = run([Case("shift", seed=1, customers=600, events=6000, batch=200)],
                 tick=lambda: ticks.append(1))
    assert len(ticks) == len(METHODS)
    case = report["cases"][0]
    assert set(case["methods"]) == set(METHODS)
    ours = case["methods"]["streamapp"]
    assert ours["inertia_ratio"] >= 0.9 and 0.0 <= ours["flapping"] <= 1.0
    assert set(report["goals"]) >= {"inertia <= 1.03 x batch", "flapping <= 0.5%"}
