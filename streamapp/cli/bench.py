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


def register(app: typer.Typer) -> None:
    """Add the ``bench`` group to the command line."""
    app.add_typer(bench, name="bench")
