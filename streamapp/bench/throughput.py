"""``streamapp bench throughput``: the worker against three baselines, on the real Kafka and Redis.

One run publishes the workload (``streamapp.bench.workload``) once to a fresh topic, then runs
every contender (``streamapp.bench.baselines``) on it ``runs`` times, interleaved so machine noise
falls on all of them alike, each in its own consumer group and Redis prefix. The last worker run
also measures Redis memory per customer and end-to-end latency at fractions of the worker's
median rate; the same loads then go through a forwarder that only reads and writes Kafka
(``latency_floor``): the machine's share of the worker's latency. Finally the worker runs
``runs`` times per population in ``scale_customers``, the populations taking turns: a
population's first events introduce every customer, then ``scale_events`` more events go to the
customers of the smallest population, the same events in every run
(``make_population_records``). The rate is taken over those alone: populations then differ only
in how many profiles Redis holds, not in first sightings (each of which publishes an ``entered``
change) or in how much history the customers drawn have. Figures are medians;
``report.summarize`` turns them into ratios and goals.
"""

from __future__ import annotations

import contextlib
import os
import platform
import statistics
import tempfile
import uuid
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from redis.asyncio import Redis

from streamapp.bench.aside import run_aside
from streamapp.bench.baselines import CONTENDERS, RunNames, measure_rate, start, stop
from streamapp.bench.latency import LatencyResult, latency_row, measure_latency
from streamapp.bench.latency_floor import wait_until_ready
from streamapp.bench.memory import delete_prefix, redis_memory
from streamapp.bench.report import summarize
from streamapp.bench.workload import START_MS, STEP_MS, make_population_records, make_records
from streamapp.kafka.producer import KafkaPublisher

# (description, total or None) -> a function that sets how much of it is done
Progress = Callable[[str, float | None], Callable[[float], None]]
FLOOR_START_SECONDS = 60.0


@dataclass(frozen=True)
class BenchConfig:
    """What one benchmark run does; the defaults are the issue's full run."""

    bootstrap: str
    redis_url: str
    events: int = 500_000
    customers: int = 100_000
    runs: int = 3
    contenders: tuple[str, ...] = ("worker", "noop", "raw", "naive")
    partitions: int = 4
    naive_seconds: float = 30.0
    loads: tuple[float, ...] = (0.25, 0.5, 0.75)
    latency_seconds: float = 20.0
    scale_customers: tuple[int, ...] = (10_000, 1_000_000)
    scale_events: int = 100_000
    worker_env: dict[str, str] = field(default_factory=dict)
    seed: int = 7

    @classmethod
    def quick(cls, bootstrap: str, redis_url: str, **overrides: Any) -> BenchConfig:
        """A CI-sized preset: 100,000 events over 20,000 customers, shorter phases."""
        values: dict[str, Any] = {"events": 100_000, "customers": 20_000, "naive_seconds": 15.0,
                                  "latency_seconds": 10.0, "scale_customers": (10_000, 100_000)}
        values.update(overrides)
        return cls(bootstrap, redis_url, **values)


class Bench:
    """State of one benchmark run: its services, names, logs and progress display."""

    def __init__(self, config: BenchConfig, progress: Progress) -> None:
        self.config = config
        self.progress = progress
        self.tag = f"bench-{uuid.uuid4().hex[:8]}"
        self.logs = Path(tempfile.mkdtemp(prefix="streamapp-bench-"))
        self.redis = Redis.from_url(config.redis_url)
        self.topics: list[str] = []
        self.probe_serial = 0
        self.latency_rate = 0.0  # the worker's rate its latency loads are fractions of

    async def publish(self, events: int, customers: int,
                      records: list[tuple[bytes, bytes]] | None = None) -> str:
        """A fresh topic holding the workload (or ``records``); returns its name."""
        topic = f"{self.tag}-{customers}-events"
        await self._create_topic(topic)
        if records is None:
            records = make_records(events, customers, self.config.seed)
        events = len(records)
        done = self.progress(f"publishing {events:,} events ({customers:,} customers)", events)
        async with KafkaPublisher(self.config.bootstrap) as publisher:
            for offset in range(0, events, 20_000):
                await publisher.send_many(records[offset:offset + 20_000], topic)
                done(min(offset + 20_000, events))
        return topic

    async def _create_topic(self, topic: str) -> None:
        admin = AIOKafkaAdminClient(bootstrap_servers=self.config.bootstrap)
        await admin.start()
        try:
            await admin.create_topics([NewTopic(topic, self.config.partitions, 1)])
        finally:
            await admin.close()
        self.topics.append(topic)

    async def contender(self, name: str, topic: str, total: int, *, customers: int,
                        measure_extras: bool = False, steady_after: int = 0,
                        earlier_rates: Sequence[float] = ()) -> dict[str, Any]:
        """Run one contender over ``topic``; the worker's last run also measures memory and
        latency while it is still up, at fractions of the median of its rate and
        ``earlier_rates`` (its earlier rounds): the maximum rate the report gives."""
        names = RunNames(f"{self.tag}-{name}-{uuid.uuid4().hex[:6]}", topic)
        self.topics += [names.changes_topic, names.dlq_topic]
        log = self.logs / f"{names.run_id}.log"
        env = names.env(self.config.bootstrap, self.config.redis_url,
                        self.config.worker_env if name != "naive" else {})
        processes = start(name, env, log)
        limit = self.config.naive_seconds if name == "naive" else 3600.0
        done = self.progress(f"{CONTENDERS[name][0]}", total)
        try:
            rate = await measure_rate(processes, self.config.bootstrap, names.run_id, topic,
                                      total, limit, log, done)
            out: dict[str, Any] = {"rate": rate.rate, "events": rate.events,
                                   "seconds": rate.seconds, "max_rss_bytes": rate.max_rss_bytes}
            if steady_after:
                out["rate_all"], out["rate"] = rate.rate, rate.rate_after(steady_after)
            if measure_extras:
                memory = await redis_memory(self.redis, names.run_id, customers)
                out["memory"] = memory.as_dict()
                self.latency_rate = statistics.median([*earlier_rates, rate.rate])
                out["latency"] = await self.latencies(names, self.latency_rate, customers)
            return out
        finally:
            stop(processes)
            await delete_prefix(self.redis, names.run_id)

    async def latency_floor(self, topic: str, customers: int) -> list[dict[str, Any]]:
        """The worker's latency loads offered to the Kafka-only forwarder (``latency_floor``)."""
        names = RunNames(f"{self.tag}-floor-{uuid.uuid4().hex[:6]}", topic)
        await self._create_topic(names.changes_topic)
        env = names.env(self.config.bootstrap, self.config.redis_url, {})
        processes = start("floor", env, self.logs / f"{names.run_id}.log")
        try:
            if not await wait_until_ready(self.config.bootstrap, names.changes_topic,
                                          FLOOR_START_SECONDS):
                raise RuntimeError(f"the latency floor's forwarder did not start within "
                                   f"{FLOOR_START_SECONDS:.0f} s; its log is in {self.logs}")
            return await self.latencies(names, self.latency_rate, customers, "latency floor")
        finally:
            stop(processes)

    async def latencies(self, names: RunNames, max_rate: float, customers: int,
                        what: str = "latency") -> list[dict[str, Any]]:
        """Latency at each load, the loads taking turns for as many rounds as the contenders:
        one 10-second window decides a p99 by its 30 slowest probes, and one hiccup of the
        machine moved it by half. Every round's filler is fresh: replayed events are dropped
        as duplicates and would make a load lighter than it says."""
        config = self.config
        rounds: dict[float, list[LatencyResult]] = {load: [] for load in config.loads}
        at = config.events  # event times go on after the topic's
        for window in range(config.runs * len(config.loads)):
            load = config.loads[window % len(config.loads)]
            rate = max_rate * load
            size = int(rate * config.latency_seconds) + 1
            filler = iter(make_records(size, customers, config.seed + 1 + window,
                                       START_MS + at * STEP_MS))
            at += size
            done = self.progress(f"{what} at {load:.0%} of {max_rate:,.0f} events/s", 1.0)
            # The load goes out from a thread that yields the CPU to the contender (``aside``).
            result = await run_aside(partial(
                measure_latency, config.bootstrap, names.events_topic, names.changes_topic,
                rate, config.latency_seconds, filler, self.probe_serial,
                START_MS + at * STEP_MS, tick=done))
            at += size
            self.probe_serial += result.probes
            rounds[load].append(result)
        return [latency_row(load, results) for load, results in rounds.items()]

    async def close(self) -> None:
        admin = AIOKafkaAdminClient(bootstrap_servers=self.config.bootstrap)
        await admin.start()
        try:
            with contextlib.suppress(Exception):
                await admin.delete_topics(self.topics)
        finally:
            await admin.close()
        await self.redis.aclose()


def population_row(customers: int, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """One population's figures over its rounds: the median rate, the largest RSS.

    >>> population_row(10, [{"rate": 3.0, "max_rss_bytes": 5}, {"rate": 1.0, "max_rss_bytes": 7},
    ...                     {"rate": 2.0, "max_rss_bytes": 6}])
    {'customers': 10, 'rate': 2.0, 'rounds': [3.0, 1.0, 2.0], 'max_rss_bytes': 7}
    """
    return {"customers": customers, "rate": statistics.median(r["rate"] for r in rows),
            "rounds": [r["rate"] for r in rows],
            "max_rss_bytes": max(r["max_rss_bytes"] for r in rows)}


async def run(config: BenchConfig, progress: Progress) -> dict[str, Any]:
    """Run the benchmark; return every figure (``report.summarize`` adds ratios and goals)."""
    bench = Bench(config, progress)
    rates: dict[str, list[dict[str, Any]]] = {name: [] for name in config.contenders}
    scale: list[dict[str, Any]] = []
    try:
        topic = await bench.publish(config.events, config.customers)
        # The worker goes last in each round: its latency probes (last round) are published to
        # the same topic, where they must not reach a baseline's count.
        order = sorted(config.contenders, key=lambda name: name == "worker")
        for run_index in range(config.runs):
            for name in order:
                extras = name == "worker" and run_index == config.runs - 1
                rates[name].append(await bench.contender(
                    name, topic, config.events, customers=config.customers,
                    measure_extras=extras, earlier_rates=[r["rate"] for r in rates[name]]))
        floor = (await bench.latency_floor(topic, config.customers)
                 if bench.latency_rate and config.loads else [])
        populations = config.scale_customers if "worker" in config.contenders else ()
        scale_topics = {}
        for customers in populations:
            records = make_population_records(customers, config.scale_events,
                                               min(populations), config.seed)
            scale_topics[customers] = await bench.publish(
                customers + config.scale_events, customers, records)
        # Populations take turns, round after round, as the contenders do: single runs move by
        # a third on a shared machine, and the ratio of two single runs said more about the
        # machine than about the population.
        scale_runs: dict[int, list[dict[str, Any]]] = {n: [] for n in populations}
        for _ in range(config.runs):
            for customers, scale_topic in scale_topics.items():
                scale_runs[customers].append(await bench.contender(
                    "worker", scale_topic, customers + config.scale_events,
                    customers=customers, steady_after=customers))
        scale = [population_row(customers, rows) for customers, rows in scale_runs.items()]
    finally:
        await bench.close()
    report = {
        "config": {k: v for k, v in asdict(config).items() if k not in ("bootstrap", "redis_url")},
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "platform": platform.platform()},
        "runs": rates,
        "median_rate": {n: statistics.median(r["rate"] for r in rs) for n, rs in rates.items()},
        "scale": scale,
        "latency_floor": floor,
        "logs": str(bench.logs),
    }
    return summarize(report)
