"""``concord train`` and ``concord score``: the model jobs over the stored feature panel."""

from __future__ import annotations

import csv
import datetime as dt
import time
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer
from rich.table import Table
from threadpoolctl import threadpool_limits

from api.cli.backtest_cmd import load_adjacency, load_truth
from api.cli.common import console, fail, load_settings, open_database
from features.catalogue import catalogue_hash, definitions
from features.pipeline import feature_columns, load_panel
from models import registry
from models.evaluate import BacktestPlan
from models.jobs import score_and_store, train_and_register
from models.train import TrainingFailed


def train(
    seed: Annotated[int, typer.Option(help="random seed of the estimators")] = 0,
    promote: Annotated[bool, typer.Option(help="serve the new version if it passes the promotion gates")] = True,
    folds: Annotated[int, typer.Option(min=1, help="rolling origins of the backtest run with training")] = 4,
    stride: Annotated[int, typer.Option(min=1, help="periods scored per origin")] = 8,
    truth: Annotated[Path | None, typer.Option(help="simulator truth file, for the oracle (default: the demo city's)")] = None,
    counts: Annotated[bool, typer.Option(help="fit the count models (expected petitions and mediation cases)")] = True,
) -> None:
    """Train the escalation and count models, backtest them, register a version and promote it if the gates pass."""
    settings = load_settings()
    engine = open_database(settings)
    started = time.perf_counter()
    try:
        panel = load_panel(engine, data_dir=settings.data_dir, period=settings.period)
        with console.status("training…") as status, threadpool_limits(1):
            model = train_and_register(
                engine, panel=panel, feature_names=feature_columns(panel), registry_dir=settings.registry_dir,
                catalogue_hash=catalogue_hash(settings.period), seed=seed, promote=promote,
                plan=BacktestPlan(folds=folds, stride=stride), truth=load_truth(settings, truth),
                adjacency=load_adjacency(engine), counts=counts,
                progress=lambda message: status.update(f"training: {message}"),
            )
    except (TrainingFailed, LookupError, FileNotFoundError, ValueError) as exc:
        raise fail(f"training failed, the serving model is unchanged: {exc}") from exc
    manifest = model.manifest
    verdict = manifest.get("backtest", {}).get("gates", {})
    table = verdict.get("table") or []
    line = summary_line_from(table)
    state = "now serving" if model.serving else ("gates refused promotion" if model.refused else "not promoted")
    console.print(
        f"trained {model.version} on {manifest['rows']:,} area-periods ({manifest['training_window'][0]}..{manifest['training_window'][1]}) "
        f"in {time.perf_counter() - started:.0f} s; {line}; {len(manifest['count_targets'])} count models; {state}"
    )
    for reason in model.refused:
        console.print(f"  gate: {reason}")


def summary_line_from(table: list[dict]) -> str:
    if not table:
        return "no backtest"
    row = table[0]
    return (f"backtest AP {row['model_ap']:.3f} vs best baseline {row['best_baseline']} {row['best_baseline_ap']:.3f}, "
            f"predicted/observed {row['predicted_to_observed']:.2f}")


def score(
    period: Annotated[dt.datetime | None, typer.Option(formats=["%Y-%m-%d"], help="period start; default the latest")] = None,
    movers: Annotated[int, typer.Option(min=0, help="how many biggest movers to list")] = 10,
) -> None:
    """Score every area for a period with the serving model, store the scores and list the biggest movers."""
    settings = load_settings()
    engine = open_database(settings)
    try:
        panel = load_panel(engine, data_dir=settings.data_dir, period=settings.period)
        describe = definitions(settings.period)
        with console.status("scoring…"), threadpool_limits(1):
            summary = score_and_store(
                engine, panel=panel, registry_dir=settings.registry_dir, high=settings.levels.high,
                medium=settings.levels.medium, describe=describe, suppression_k=settings.suppression_k,
                period=pd.Timestamp(period) if period is not None else None, movers=movers,
            )
    except (LookupError, FileNotFoundError, ValueError, registry.ArtifactRejected) as exc:
        raise fail(str(exc)) from exc
    console.print(
        f"scored {summary.areas:,} areas for {summary.period_start.date()} with {summary.model_version}: "
        f"{summary.high} high, {summary.medium} medium"
    )
    if summary.movers:
        table = Table("area", "probability", "change", "level", "why", title=f"biggest movers since {summary.previous_period.date()}")
        for row in summary.movers:
            level = row["level"] if row["level"] == row["previous_level"] else f"{row['previous_level']} → {row['level']}"
            table.add_row(row["area_id"], f"{row['probability']:.3f}", f"{row['change']:+.3f}", level, row["why"])
        console.print(table)
        reports = settings.data_dir / "reports"
        reports.mkdir(parents=True, exist_ok=True)
        path = reports / f"movers-{summary.period_start.date()}.csv"
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(summary.movers[0]))
            writer.writeheader()
            writer.writerows(summary.movers)
        console.print(f"movers: {path}")


def register(app: typer.Typer) -> None:
    app.command("train")(train)
    app.command("score")(score)
