"""``concord retrain``: the scheduled job — new records, features, drift, challenger, safe promotion.

Exit codes, for schedulers (docs/monitoring.md): 0 the run finished (the
challenger was promoted, or kept out because it was not better: the last
line says which); 1 a step failed and nothing was promoted; 2 the run could
not start (settings, database); 3 another retrain holds the lock.
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy.exc import SQLAlchemyError
from threadpoolctl import threadpool_limits

from api.cli.common import (
    console,
    current_user,
    err_console,
    load_settings,
    open_database,
)
from api.cli.drift_cmd import drift_config
from api.cli.specs import panel_spec
from api.settings import Settings
from models.monitoring.compare import ComparisonPlan
from models.monitoring.retrain import (
    COULD_NOT_START,
    STEPS,
    SUCCEEDED,
    RetrainConfig,
    run_retrain,
)
from models.monitoring.sources import SqlSource


def retrain_config(settings: Settings, *, seed: int, counts: bool, wait: float | None) -> RetrainConfig:
    m = settings.monitoring
    source = SqlSource(url=m.source_url.get_secret_value(), queries=m.source_queries) if m.source_url else None
    return RetrainConfig(
        data_dir=settings.data_dir, registry_dir=settings.registry_dir, spec=panel_spec(settings),
        hash_key=settings.hash_key.get_secret_value().encode(), inbox_dir=m.inbox_dir or settings.data_dir / "inbox",
        sql_source=source, drift=drift_config(settings),
        comparison=ComparisonPlan(folds=m.comparison_folds, stride=m.comparison_stride, margin=m.promotion_margin,
                                  calibration_tolerance=m.calibration_tolerance),
        seed=seed, counts=counts, lock_wait_seconds=m.lock_wait_seconds if wait is None else wait,
    )


def retrain(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="do everything but promote")] = False,
    seed: Annotated[int, typer.Option(help="random seed of the estimators")] = 0,
    counts: Annotated[bool, typer.Option(help="fit the count models of the challenger")] = True,
    wait: Annotated[float | None, typer.Option(min=0, help="seconds to wait for a running retrain (default: settings)")] = None,
) -> None:
    """Load new records, rebuild features, check drift, train a challenger and promote it only if it beats the champion.

    Exit 0: finished (promoted or champion kept). 1: a step failed, nothing promoted.
    2: could not start. 3: another retrain is running.
    """
    settings = load_settings()
    try:
        engine = open_database(settings)
        config = retrain_config(settings, seed=seed, counts=counts, wait=wait)
    except (SQLAlchemyError, ValueError) as exc:
        err_console.print(f"[bold red]error:[/] retrain cannot start: {exc}")
        raise typer.Exit(COULD_NOT_START) from exc
    bar = Progress(TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(), console=console)
    with bar, threadpool_limits(1):
        task = bar.add_task("retrain: waiting for the lock", total=len(STEPS))

        def on_step(step: str) -> None:
            bar.update(task, completed=STEPS.index(step), description=f"retrain: {step}")

        outcome = run_retrain(engine, config=config, triggered_by=current_user(), dry_run=dry_run, on_step=on_step,
                              progress=lambda message: bar.update(task, description=f"retrain: {message[:70]}"))
        bar.update(task, completed=len(STEPS) if outcome.exit_code == SUCCEEDED else bar.tasks[0].completed)
    (console if outcome.exit_code == SUCCEEDED else err_console).print(outcome.message, soft_wrap=True, highlight=False)
    if outcome.report is not None:
        console.print(f"report: {outcome.report}", soft_wrap=True, highlight=False)
    raise typer.Exit(outcome.exit_code)


def register(app: typer.Typer) -> None:
    app.command("retrain")(retrain)
