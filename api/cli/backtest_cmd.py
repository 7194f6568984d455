"""``concord backtest``: rolling-origin evaluation against the baselines (and the oracle), as an HTML report."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path
from typing import Annotated

import pandas as pd
import sqlalchemy as sa
import typer
from sqlalchemy.engine import Engine
from threadpoolctl import threadpool_limits

from api.cli.common import console, fail, load_settings, open_database
from api.settings import Settings
from features.pipeline import feature_columns, load_panel
from features.storage.tables import adjacency as adjacency_table
from models.evaluate import BacktestPlan, backtest, gates, summary_line
from models.report import write_backtest_report

TRUTH_FILE = "truth_area_weeks"


def load_truth(settings: Settings, path: Path | None) -> pd.DataFrame | None:
    """The simulator's truth (``--truth`` or the demo city's), or None when there is none."""
    candidates = [path] if path is not None else [settings.demo_city_dir / f"{TRUTH_FILE}{s}" for s in (".parquet", ".csv")]
    for candidate in candidates:
        if candidate.is_file():
            columns = ["area_id", "period_start", "p_escalation"]
            truth = (pd.read_parquet(candidate, columns=columns) if candidate.suffix == ".parquet"
                     else pd.read_csv(candidate, usecols=columns, dtype={"area_id": str}))
            return truth.assign(area_id=truth["area_id"].astype(str), period_start=pd.to_datetime(truth["period_start"]))
    if path is not None:
        raise FileNotFoundError(f"no truth file at {path}")
    return None


def load_adjacency(engine: Engine) -> pd.DataFrame | None:
    with engine.connect() as connection:
        rows = connection.execute(sa.select(adjacency_table.c.area_id, adjacency_table.c.neighbor_id)).all()
    return pd.DataFrame(rows, columns=["area_id", "neighbor_id"]) if rows else None


def _progress(status, message: str) -> None:
    status.update(f"backtesting: {message}")
    if not console.is_terminal:  # a log file gets one line per step
        console.print(message)


def backtest_command(
    from_: Annotated[dt.datetime | None, typer.Option("--from", formats=["%Y-%m-%d"], help="first origin; origins are spread evenly from it to the last labelled period")] = None,
    folds: Annotated[int, typer.Option(min=1, help="number of rolling origins")] = 4,
    stride: Annotated[int, typer.Option(min=1, help="periods scored per origin (without --from)")] = 8,
    truth: Annotated[Path | None, typer.Option(help="simulator truth file (default: the demo city's, if present)")] = None,
    importance: Annotated[int, typer.Option(min=0, help="permutation-importance repeats on the last fold (0: skip)")] = 3,
    seed: Annotated[int, typer.Option(help="random seed of the estimators")] = 0,
) -> None:
    """Backtest the training recipe on rolling origins, horizons 1-4, against every baseline; write the HTML report."""
    settings = load_settings()
    engine = open_database(settings)
    started = time.perf_counter()
    try:
        panel = load_panel(engine, data_dir=settings.data_dir, period=settings.period)
        oracle = load_truth(settings, truth)
        plan = BacktestPlan(folds=folds, stride=stride, start=pd.Timestamp(from_) if from_ else None,
                            horizons=(1, 2, 3, 4), importance_repeats=importance)
        with console.status("backtesting…") as status, threadpool_limits(1):
            result = backtest(panel, feature_names=feature_columns(panel), plan=plan, seed=seed, truth=oracle,
                              adjacency=load_adjacency(engine), progress=lambda m: _progress(status, m))
    except (LookupError, FileNotFoundError, ValueError) as exc:
        raise fail(f"backtest failed: {exc}") from exc
    reports = settings.data_dir / "reports"
    reports.mkdir(parents=True, exist_ok=True)
    path = reports / f"backtest-{dt.datetime.now(dt.UTC):%Y%m%d-%H%M%S}.html"
    write_backtest_report(result, path=path, title=f"Concord backtest ({settings.period}ly panel)")
    result.metrics.to_csv(path.with_suffix(".metrics.csv"), index=False)  # per fold x horizon x scorer
    if not result.count_metrics.empty:
        result.count_metrics.to_csv(path.with_suffix(".counts.csv"), index=False)
    verdict = gates(result)
    oracle_note = "" if oracle is None else "; oracle included"
    console.print(f"{len(result.folds)} folds × horizons 1-4 in {time.perf_counter() - started:.0f} s{oracle_note}; "
                  f"gates {'passed' if verdict.passed else 'refused'}; {summary_line(verdict)}")
    for reason in verdict.reasons:
        console.print(f"  gate: {reason}")
    console.print(f"report: {path}")


def register(app: typer.Typer) -> None:
    app.command("backtest")(backtest_command)
