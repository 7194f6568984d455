"""``concord drift``: is the data, or the model, moving away from what the serving model learnt from?

Exit codes, for schedulers: 0 no drift, 1 drift found, 2 could not run.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Annotated

import pandas as pd
import typer
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from threadpoolctl import threadpool_limits

from api.cli.common import (
    console,
    current_user,
    err_console,
    load_settings,
    open_database,
)
from api.settings import Settings
from features.pipeline import load_panel
from models.monitoring.drift import DriftConfig
from models.monitoring.jobs import COULD_NOT_RUN, DriftOutcome, drift_job


def drift_config(settings: Settings) -> DriftConfig:
    m = settings.monitoring
    return DriftConfig(reference_periods=m.drift_reference_periods, current_periods=m.drift_current_periods,
                       sample_rows=m.drift_sample_rows, threshold=m.drift_threshold, drift_share=m.drift_share,
                       report_columns=m.drift_report_columns)


def drift_command(
    period: Annotated[dt.datetime | None, typer.Option(formats=["%Y-%m-%d"], help="last period of the current window; default the latest")] = None,
    wait: Annotated[float | None, typer.Option(min=0, help="seconds to wait if another drift check runs (default: settings)")] = None,
) -> None:
    """Compare the latest periods with the serving model's reference window; write Evidently HTML and a JSON summary.

    Exit 0: no drift. Exit 1: drift found. Exit 2: could not run.
    """
    settings = load_settings()
    try:
        engine = open_database(settings)
    except SQLAlchemyError as exc:
        err_console.print(f"[bold red]error:[/] the database cannot be opened: {exc.__class__.__name__}: {exc}")
        raise typer.Exit(COULD_NOT_RUN) from exc
    with console.status("checking drift…") as status, threadpool_limits(1):
        outcome = _run(settings, engine, period=period, wait=wait, progress=lambda message: status.update(f"drift: {message}"))
    (err_console if outcome.exit_code == COULD_NOT_RUN else console).print(
        f"{'run ' + str(outcome.run_id) + ': ' if outcome.run_id else ''}{outcome.message}", soft_wrap=True, highlight=False)
    raise typer.Exit(outcome.exit_code)


def _run(settings: Settings, engine: Engine, *, period: dt.datetime | None, wait: float | None,
         progress: Callable[[str], None]) -> DriftOutcome:
    """The drift job; a database failure on the way is "could not run" (exit 2), not a traceback."""
    try:
        return drift_job(
            engine, panel_loader=lambda: load_panel(engine, data_dir=settings.data_dir, period=settings.period),
            config=drift_config(settings), data_dir=settings.data_dir, registry_dir=settings.registry_dir,
            triggered_by=current_user(), period=pd.Timestamp(period) if period else None,
            period_days=7 if settings.period == "week" else 30,
            lock_wait_seconds=settings.monitoring.lock_wait_seconds if wait is None else wait, progress=progress,
        )
    except SQLAlchemyError as exc:
        return DriftOutcome(COULD_NOT_RUN, None, {"error": str(exc)}, f"drift check could not run: the database failed: {exc}")


def register(app: typer.Typer) -> None:
    app.command("drift")(drift_command)
