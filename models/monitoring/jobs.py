"""The drift job as a scheduler runs it: lock, trail, check, reports, exit code.

Exit codes (docs/monitoring.md): 0 no drift, 1 drift found, 2 could not
run (no panel, too few periods, an unreadable serving model, another drift
check running). The check only reads and writes reports, so its lock is
separate from the retraining lock.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from sqlalchemy.engine import Engine

from models import registry
from models.monitoring import history
from models.monitoring.drift import DriftConfig, check_drift, file_sha256
from models.monitoring.lock import JobLock, LockBusy
from models.monitoring.serving import as_scorer, load_champion
from models.monitoring.windows import DriftCannotRun

NO_DRIFT, DRIFT_FOUND, COULD_NOT_RUN = 0, 1, 2


@dataclass(frozen=True)
class DriftOutcome(history.JobOutcome):
    """How ``concord drift`` ended (exit codes above)."""


def reports_dir(data_dir: Path) -> Path:
    return Path(data_dir) / "reports" / "monitoring"


def run_drift_check(
    engine: Engine, *, panel_loader: Callable[[], pd.DataFrame], config: DriftConfig, data_dir: Path, registry_dir: Path,
    triggered_by: str, period: pd.Timestamp | None = None, period_days: int = 7, run_id: int | None = None,
    progress: Callable[[str], None] = lambda m: None,
) -> DriftOutcome:
    """Check drift inside an existing run (``run_id``, as retraining does) or as its own run."""
    try:
        champion = load_champion(engine, registry_dir=registry_dir)
        panel = panel_loader()
        result = check_drift(engine, panel=panel, config=config, out_dir=reports_dir(data_dir),
                             model=as_scorer(champion) if champion else None, period=period,
                             period_days=period_days, progress=progress)
    except (DriftCannotRun, LookupError, registry.ArtifactRejected, ValueError) as exc:
        return DriftOutcome(COULD_NOT_RUN, run_id, {"error": str(exc)}, f"drift check could not run: {exc}")
    summary = result.summary()
    html = result.html["features"]
    report_id = history.record_drift(engine, run_id=run_id, summary=summary, html_path=html.name,
                                     html_sha256=file_sha256(html))
    summary = {**summary, "report_id": report_id, "json": result.json_path.name}
    drifted = len(summary["drifted_features"])
    verdict = "drift found: " + "; ".join(result.reasons) if result.drift_detected else "no drift"
    message = (f"{verdict}; {drifted} of {summary['features_checked']} features drifted "
               f"(current {summary['windows']['current'][0]}..{summary['windows']['current'][1]} against "
               f"{summary['windows']['reference'][0]}..{summary['windows']['reference'][1]}); report {html}")
    return DriftOutcome(DRIFT_FOUND if result.drift_detected else NO_DRIFT, run_id, summary, message)


def drift_job(
    engine: Engine, *, panel_loader: Callable[[], pd.DataFrame], config: DriftConfig, data_dir: Path,
    registry_dir: Path, triggered_by: str, period: pd.Timestamp | None = None, period_days: int = 7,
    lock_wait_seconds: float = 0.0, progress: Callable[[str], None] = lambda m: None,
) -> DriftOutcome:
    """``concord drift``: one recorded run under the drift lock."""
    try:
        lock = JobLock(Path(data_dir) / "locks" / "drift.lock", wait_seconds=lock_wait_seconds)
        lock.acquire()
    except LockBusy as exc:
        return DriftOutcome(COULD_NOT_RUN, None, {"error": str(exc)}, str(exc))
    try:
        history.mark_crashed(engine, job="drift")
        run_id = history.start_run(engine, job="drift", triggered_by=triggered_by)
        history.set_step(engine, run_id, "drift")
        outcome = run_drift_check(engine, panel_loader=panel_loader, config=config, data_dir=data_dir,
                                  registry_dir=registry_dir, triggered_by=triggered_by, period=period,
                                  period_days=period_days, run_id=run_id, progress=progress)
        status = "failed" if outcome.exit_code == COULD_NOT_RUN else "succeeded"
        history.finish_run(engine, run_id, status=status, exit_code=outcome.exit_code,
                           summary={**outcome.summary, "message": outcome.message},
                           error=outcome.summary.get("error"))
        history.set_step(engine, run_id, "done")
        return DriftOutcome(outcome.exit_code, run_id, outcome.summary, outcome.message)
    finally:
        lock.release()
