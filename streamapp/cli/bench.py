"""``streamapp bench ...``: benchmarks that print figures (quality here; more join the group)."""

from __future__ import annotations

from typing import Any

import orjson
import typer
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from streamapp.cli.errors import fail

bench = typer.Typer(help="Benchmarks: print figures, see docs/BENCHMARKS.md.",
                    no_args_is_help=True)


def quality_table(report: dict[str, Any]) -> Table:
    """One row per case: this model's figures, then the baselines' inertia ratio and ARI."""
    table = Table(title=f"segmentation quality · half-life {report['halflife']:g} events")
    for column in ("case", "inertia ×bound", "ARI ×bound", "flapping", "recovery (events)",
                   "sklearn MBK inertia / ARI", "River KMeans inertia / ARI"):
        table.add_column(column, justify="left" if column == "case" else "right")
    for case in report["cases"]:
        ours = case["methods"]["streamapp"]
        cells = [case["case"], f"{ours['inertia_ratio']:.3f}", f"{ours['ari_ratio']:.3f}",
                 f"{100 * (ours['flapping'] or 0):.2f}%",
                 "—" if ours["recovery_events"] is None else str(ours["recovery_events"])]
        for method in ("sklearn-minibatch", "river-kmeans"):
            other = case["methods"].get(method)
            cells.append("—" if other is None else
                         f"{other['inertia_ratio']:.3f} / {other['ari']:.3f}")
        table.add_row(*cells)
    return table


@bench.command("quality")
def quality(
    as_json: bool = typer.Option(False, "--json", help="print the figures as JSON"),
    seeds: int = typer.Option(3, min=1, help="seeds per persona shape"),
) -> None:
    """Compare the model with batch k-means, scikit-learn MiniBatchKMeans and River KMeans."""
    try:
        from streamapp.bench.quality import METHODS, run
        from streamapp.bench.quality_cases import all_cases
    except ImportError as exc:
        fail(f"the benchmark needs scikit-learn ({exc}) — pip install 'streamapp[bench]'")
    cases = all_cases(tuple(range(1, seeds + 1)))
    with Progress(console=Console(stderr=True), transient=True) as progress:
        task = progress.add_task("running cases", total=len(cases) * len(METHODS))
        report = run(cases, tick=lambda: progress.advance(task))
    if as_json:
        typer.echo(orjson.dumps(report, option=orjson.OPT_INDENT_2).decode())
        return
    console = Console()
    console.print(quality_table(report))
    for goal, met in report["goals"].items():
        console.print(f"{'[green]met' if met else '[red]missed'}[/]  {goal}")


@bench.command("throughput")
def throughput(
    as_json: bool = typer.Option(False, "--json", help="print the figures as JSON"),
    events: int = typer.Option(
        500_000, min=100, help="events published; rates are timed between a contender's "
        "commits, the worker's a second apart, so enough for several seconds of work"),
    customers: int = typer.Option(100_000, min=1, help="customers they belong to"),
    runs: int = typer.Option(3, min=1, help="runs of each contender; figures are medians"),
    quick: bool = typer.Option(False, "--quick", help="CI-sized preset: 100k events, 20k "
                               "customers, shorter phases, populations 10k and 100k"),
    only: str = typer.Option("worker,noop,raw,naive",
                             help="contenders, comma separated (also: worker2, two workers)"),
    scale: str | None = typer.Option(
        None, help="populations of the scaling runs, e.g. 10000,1000000 (the default); '' none"),
    scale_events: int = typer.Option(
        100_000, min=100, help="events timed per scaling run: after one event per customer, "
        "the same events among the smallest population's customers"),
    latency_seconds: float | None = typer.Option(None, min=1, help="seconds per load [20]"),
    naive_seconds: float | None = typer.Option(None, min=1, help="naive pipeline's limit [30]"),
    env: list[str] = typer.Option([], help="KEY=VALUE for the worker and no-op agent"),
) -> None:
    """Rate, latency and memory of the worker against three baselines on the real services."""
    import asyncio

    from streamapp.bench.baselines import CONTENDERS
    from streamapp.bench.report import detail_tables, throughput_table
    from streamapp.bench.throughput import BenchConfig, run
    from streamapp.settings import get_settings

    contenders = tuple(n for n in only.split(",") if n)
    unknown = [n for n in contenders if n not in CONTENDERS]
    if unknown or not contenders:
        raise typer.BadParameter(f"{', '.join(unknown) or 'nothing'} is not a contender; use "
                                 f"some of {','.join(CONTENDERS)}", param_hint="--only")
    settings = get_settings()
    options: dict[str, Any] = {
        "runs": runs, "contenders": contenders,
        "worker_env": dict(item.split("=", 1) for item in env),
        "scale_events": scale_events,
    }
    if scale is not None:
        options["scale_customers"] = tuple(int(n) for n in scale.split(",") if n)
    if latency_seconds is not None:
        options["latency_seconds"] = latency_seconds
    if naive_seconds is not None:
        options["naive_seconds"] = naive_seconds
    if quick:
        config = BenchConfig.quick(settings.kafka_bootstrap, settings.redis_dsn, **options)
    else:
        config = BenchConfig(settings.kafka_bootstrap, settings.redis_dsn, events=events,
                             customers=customers, **options)
    with Progress(console=Console(stderr=True), transient=True) as progress:
        def phase(description: str, total: float | None) -> Any:
            task = progress.add_task(description, total=total)
            return lambda done: progress.update(task, completed=done)

        try:
            report = asyncio.run(run(config, phase))
        except (RuntimeError, OSError) as exc:
            fail(f"the benchmark stopped: {exc}")
    if as_json:
        typer.echo(orjson.dumps(report, option=orjson.OPT_INDENT_2).decode())
        return
    console = Console()
    console.print(throughput_table(report))
    for table in detail_tables(report):
        console.print(table)
    for goal, met in report["goals"].items():
        console.print(f"{'[green]met' if met else '[red]missed'}[/]  {goal}")


def register(app: typer.Typer) -> None:
    """Add the ``bench`` group to the command line."""
    app.add_typer(bench, name="bench")
