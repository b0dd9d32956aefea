"""The throughput benchmark's pure parts: its workload and how figures become ratios and goals."""

from __future__ import annotations

import orjson

from streamapp.bench.report import detail_tables, summarize, throughput_table
from streamapp.bench.workload import make_records
from streamapp.pipeline.decode import KafkaRecord, decode_batch


def test_workload_is_deterministic_covers_every_customer_and_is_valid() -> None:
    records = make_records(3000, 500, seed=9)
    assert records == make_records(3000, 500, seed=9)
    assert len({key for key, _ in records}) == 500
    facts, rejects = decode_batch(
        [KafkaRecord(k, v, "t", 0, i, 0) for i, (k, v) in enumerate(records)], 65536)
    assert not rejects and len(facts) == 3000
    assert 0.05 < sum(f.is_order for f in facts) / len(facts) < 0.15
    times = [orjson.loads(v)["timestamp"] for _, v in records]
    assert times == sorted(times)


def _report() -> dict[str, object]:
    worker = {"rate": 9000.0, "events": 1, "seconds": 1, "max_rss_bytes": 2**27,
              "memory": {"profile_keys": 10, "profile_mean_bytes": 240.0, "other_keys_bytes": 5,
                         "per_customer_bytes": 241.0, "customers": 10, "sampled": 10},
              "latency": [{"load": 0.5, "offered_rate": 4500, "achieved_rate": 4500,
                           "probes": 9, "matched": 9, "p50_ms": 20.0, "p99_ms": 60.0}]}
    naive = {"rate": 1000.0, "events": 1, "seconds": 1, "max_rss_bytes": 2**27}
    return {"config": {"runs": 1, "events": 10, "customers": 10},
            "runs": {"worker": [worker], "naive": [naive]},
            "median_rate": {"worker": 9000.0, "naive": 1000.0},
            "scale": [{"customers": 10, "rate": 9000.0, "max_rss_bytes": 100},
                      {"customers": 1000, "rate": 8000.0, "max_rss_bytes": 110}]}


def test_summary_has_ratios_and_goals() -> None:
    report = summarize(_report())
    assert report["ratios"]["worker / naive"] == 9.0
    assert report["ratios"]["scale rate"] == 0.889
    goals = report["goals"]
    assert goals["rate >= 10 x naive pipeline"] is False
    assert goals["p99 <= 50 ms at 50 % load"] is False
    assert goals["profile hash <= 256 B"] is True
    assert goals["rate at 1,000 >= 0.9 x at 10"] is False
    assert goals["worker RSS flat in customers"] is True


def test_tables_render() -> None:
    report = summarize(_report())
    assert throughput_table(report).row_count == 2
    assert [t.row_count for t in detail_tables(report)] == [1, 1, 2]


def test_latency_table_shows_the_floor_beside_the_worker() -> None:
    floor = {"load": 0.5, "offered_rate": 4500, "achieved_rate": 4500, "probes": 9,
             "matched": 9, "p50_ms": 4.0, "p99_ms": 25.0}
    report = summarize({**_report(), "latency_floor": [floor]})
    latency = detail_tables(report)[0]
    assert latency.row_count == 2
    assert list(latency.columns[0].cells) == ["worker", "floor"]
    # The floor is what the machine costs; the goal is the worker's.
    assert report["goals"]["p99 <= 50 ms at 50 % load"] is False
