"""``streamapp bench throughput`` runs end to end on the real services (tiny N: proof only)."""

from __future__ import annotations

import os
import subprocess
import sys

import orjson
import pytest

from tests.integration.services import Services

pytestmark = pytest.mark.integration


def test_throughput_bench_runs_and_reports(services: Services) -> None:
    env = {**os.environ, "STREAMAPP_KAFKA_BOOTSTRAP": services.kafka_bootstrap,
           "STREAMAPP_REDIS_URL": services.redis_url}
    # The rate is timed between the worker's commits, one a second; over 500 customers it reads
    # about 30,000 events a second here, so 30,000 events could all land in its first commit.
    result = subprocess.run(
        [sys.executable, "-m", "streamapp", "bench", "throughput", "--json", "--events", "150000",
         "--customers", "500", "--runs", "2", "--only", "worker,raw", "--scale", "",
         "--latency-seconds", "2"],
        env=env, capture_output=True, timeout=180, check=False,
    )
    assert result.returncode == 0, result.stderr.decode(errors="replace")[-3000:]
    report = orjson.loads(result.stdout)
    worker = report["runs"]["worker"][-1]  # the last round measures memory and latency
    median = report["median_rate"]["worker"]
    assert median > 0
    # The loads are fractions of the rate the report gives, the median of the rounds.
    assert [row["offered_rate"] for row in worker["latency"]] == [
        round(load * median) for load in (0.25, 0.5, 0.75)]
    assert worker["memory"]["profile_keys"] == 500
    assert [row["load"] for row in worker["latency"]] == [0.25, 0.5, 0.75]
    assert all(row["matched"] == row["probes"] > 0 for row in worker["latency"]), \
        [(row["probes"], row["matched"]) for row in worker["latency"]]
    # The same loads through the Kafka-only forwarder: every probe answered.
    floor = report["latency_floor"]
    assert [row["offered_rate"] for row in floor] == [
        row["offered_rate"] for row in worker["latency"]]
    assert all(row["matched"] == row["probes"] > 0 for row in floor), \
        [(row["probes"], row["matched"]) for row in floor]
