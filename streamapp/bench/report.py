"""Ratios, goals and the table of ``streamapp bench throughput``, from its raw figures.

>>> r = summarize({"median_rate": {"worker": 9000.0, "noop": 10000.0, "naive": 800.0},
...                "runs": {}, "scale": []})
>>> r["ratios"]["worker / noop"], r["goals"]["rate >= 0.8 x no-op Faust agent"]
(0.9, True)
"""

from __future__ import annotations

import statistics
from typing import Any

from rich.table import Table

from streamapp.bench.baselines import CONTENDERS, FLOOR

GOAL_NOOP = 0.8
GOAL_NAIVE = 10.0
GOAL_P99_MS = 50.0
GOAL_PROFILE_BYTES = 256
GOAL_CUSTOMER_BYTES = 512
GOAL_SCALE = 0.9
# RSS counts as flat when the largest population costs at most this much more than the smallest.
RSS_FLAT = 1.25


def _latency_at(report: dict[str, Any], load: float) -> dict[str, Any] | None:
    for run in report["runs"].get("worker", []):
        for row in run.get("latency", []):
            if abs(row["load"] - load) < 1e-9:
                return dict(row)
    return None


def _memory(report: dict[str, Any]) -> dict[str, Any] | None:
    for run in report["runs"].get("worker", []):
        if "memory" in run:
            return dict(run["memory"])
    return None


def summarize(report: dict[str, Any]) -> dict[str, Any]:
    """Add ``ratios`` (worker over each baseline) and ``goals`` (name -> met) to ``report``."""
    median = report["median_rate"]
    worker = median.get("worker")
    ratios = {f"worker / {name}": round(worker / rate, 3)
              for name, rate in median.items() if name not in ("worker", "worker2")
              and worker and rate}
    if worker and median.get("worker2"):
        ratios["2 workers / 1 worker"] = round(median["worker2"] / worker, 3)
    goals: dict[str, bool] = {}
    if "worker / noop" in ratios:
        goals[f"rate >= {GOAL_NOOP} x no-op Faust agent"] = ratios["worker / noop"] >= GOAL_NOOP
    if "worker / naive" in ratios:
        goals[f"rate >= {GOAL_NAIVE:g} x naive pipeline"] = ratios["worker / naive"] >= GOAL_NAIVE
    half = _latency_at(report, 0.5)
    if half is not None:
        goals[f"p99 <= {GOAL_P99_MS:g} ms at 50 % load"] = half["p99_ms"] <= GOAL_P99_MS
    memory = _memory(report)
    if memory is not None:
        goals[f"profile hash <= {GOAL_PROFILE_BYTES} B"] = (
            memory["profile_mean_bytes"] <= GOAL_PROFILE_BYTES)
        goals[f"all per customer <= {GOAL_CUSTOMER_BYTES} B"] = (
            memory["per_customer_bytes"] <= GOAL_CUSTOMER_BYTES)
    scale = sorted(report.get("scale", []), key=lambda row: row["customers"])
    if len(scale) >= 2 and scale[0]["rate"]:
        small, large = scale[0], scale[-1]
        ratios["scale rate"] = round(large["rate"] / small["rate"], 3)
        ratios["scale rss"] = round(large["max_rss_bytes"] / small["max_rss_bytes"], 3)
        goals[f"rate at {large['customers']:,} >= {GOAL_SCALE} x at {small['customers']:,}"] = (
            ratios["scale rate"] >= GOAL_SCALE)
        goals["worker RSS flat in customers"] = ratios["scale rss"] <= RSS_FLAT
    return {**report, "ratios": ratios, "goals": goals}


def throughput_table(report: dict[str, Any]) -> Table:
    """Rates per contender (median and each run), with the worker's ratio over each."""
    runs = report["config"]["runs"]
    table = Table(title=f"throughput · {report['config']['events']:,} events, "
                        f"{report['config']['customers']:,} customers, median of {runs}")
    for column in ("contender", "events/s (median)", "runs", "worker ×", "max RSS MiB"):
        table.add_column(column, justify="left" if column == "contender" else "right")
    median = report["median_rate"]
    for name, results in report["runs"].items():
        each = " · ".join(f"{r['rate']:,.0f}" for r in results)
        ratio = "—" if name == "worker" else f"{median['worker'] / median[name]:.2f}" \
            if median.get("worker") and median[name] else "—"
        rss = statistics.median(r["max_rss_bytes"] for r in results) / 2**20
        table.add_row(CONTENDERS[name][0], f"{median[name]:,.0f}", each, ratio, f"{rss:.0f}")
    return table


def detail_tables(report: dict[str, Any]) -> list[Table]:
    """Latency per load, memory per customer, and rate per population."""
    tables = []
    latency = Table(title="end-to-end latency (publish → change event consumed), medians; "
                          "loads are fractions of the worker's median rate")
    for column in ("through", "load", "offered ev/s", "achieved ev/s", "probes", "p50 ms",
                   "p99 ms", "p99 per round"):
        latency.add_column(column, justify="left" if column == "through" else "right")
    worker = [row for run in report["runs"].get("worker", []) for row in run.get("latency", [])]
    floor = report.get("latency_floor", [])
    if floor:
        latency.caption = f"floor: {FLOOR[0]}, the same loads"
    for through, rows in (("worker", worker), ("floor", floor)):
        for row in rows:
            latency.add_row(through, f"{row['load']:.0%}", f"{row['offered_rate']:,}",
                            f"{row['achieved_rate']:,}", f"{row['matched']}/{row['probes']}",
                            f"{row['p50_ms']:.1f}", f"{row['p99_ms']:.1f}",
                            " · ".join(f"{p:.0f}" for p in row.get("rounds_p99_ms", [])))
    tables.append(latency)
    memory = _memory(report)
    if memory is not None:
        table = Table(title="Redis memory (MEMORY USAGE)")
        for column in ("profiles", "profile hash B (mean)", "other keys B", "per customer B"):
            table.add_column(column, justify="right")
        table.add_row(f"{memory['profile_keys']:,}", f"{memory['profile_mean_bytes']:.0f}",
                      f"{memory['other_keys_bytes']:,}", f"{memory['per_customer_bytes']:.0f}")
        tables.append(table)
    if report.get("scale"):
        table = Table(title="worker rate by population (events to known customers, after each "
                            "customer's first)")
        for column in ("customers", "events/s (median)", "rounds", "max RSS MiB"):
            table.add_column(column, justify="right")
        for row in report["scale"]:
            rounds = " · ".join(f"{rate:,.0f}" for rate in row.get("rounds", [row["rate"]]))
            table.add_row(f"{row['customers']:,}", f"{row['rate']:,.0f}", rounds,
                          f"{row['max_rss_bytes'] / 2**20:.0f}")
        tables.append(table)
    return tables
