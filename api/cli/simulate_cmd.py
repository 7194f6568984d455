"""``concord simulate``: write a simulated city (records and truth) to a folder."""

from __future__ import annotations

import datetime as dt
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from api.cli.common import console, fail
from features.simulation import SimulationConfig, simulate


class OutputFormat(str, Enum):
    csv = "csv"
    parquet = "parquet"


def simulate_command(
    out: Annotated[Path, typer.Option(help="Folder to write the files to (created if missing).", file_okay=False)],
    areas: Annotated[int, typer.Option(help="Number of communities (the lowest level).", min=4)] = 300,
    weeks: Annotated[int, typer.Option(help="Number of weeks to simulate.", min=1)] = 156,
    start: Annotated[str, typer.Option(help="First week's Monday, YYYY-MM-DD.")] = "2023-01-02",
    seed: Annotated[int, typer.Option(help="Random seed: the same seed gives the same bytes.")] = 0,
    messy: Annotated[bool, typer.Option(help="Inject the dirt of real exports (GB18030, mixed dates, ...); CSV only.")] = False,
    format: Annotated[OutputFormat, typer.Option("--format", help="File format of the records.")] = OutputFormat.csv,
) -> None:
    """Simulate a city with known truth: areas, population, petitions, mediation, policies, truth."""
    try:
        first = dt.date.fromisoformat(start)
        config = SimulationConfig(communities=areas, weeks=weeks, start=first, seed=seed, messy=messy)
    except ValueError as exc:
        raise fail(str(exc), code=2) from exc
    if messy and format is not OutputFormat.csv:
        raise fail("--messy writes CSV only (the dirt is that of CSV exports)", code=2)
    with Progress(TextColumn("simulating"), BarColumn(), TextColumn("week {task.completed}/{task.total}"),
                  TimeElapsedColumn(), TimeRemainingColumn(), console=console, transient=True) as progress:
        task = progress.add_task("simulate", total=weeks)
        summary = simulate(config, out, format.value,
                           progress=lambda done, total: progress.update(task, completed=done))
    console.print(
        f"wrote {len(summary.files) + 2} files to {out} ({summary.rows:,} rows), "
        f"escalation rate {summary.escalation_rate:.2%} of {summary.community_weeks:,} community-weeks, "
        f"oracle hit rate (top 5%) {summary.oracle_hit_rate_top5:.1%}, in {summary.seconds:.1f} s"
    )


def register(app: typer.Typer) -> None:
    app.command("simulate")(simulate_command)
