"""The job trail: one ``job_runs`` row per run, and the ``drift_reports`` a drift check leaves.

A run is inserted as "running" before any work and updated at every step,
so a run killed mid-way is visible afterwards with the step it died in.
Only the lock holder may find a "running" row of its own job: whoever
wrote it is dead (the kernel freed its lock), so the new holder marks it
"crashed" (``mark_crashed``) before starting.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import socket
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from features.storage.tables import drift_reports, job_runs

JOBS = ("retrain", "drift")


@dataclass(frozen=True)
class JobOutcome:
    """How a scheduled job ended: the exit code a scheduler reacts to, its run row, a summary and a message."""

    exit_code: int
    run_id: int | None
    summary: dict[str, Any]
    message: str


@dataclass(frozen=True)
class RunRecord:
    run_id: int
    job: str
    status: str
    step: str
    started_at: dt.datetime
    finished_at: dt.datetime | None
    host: str
    pid: int
    triggered_by: str
    exit_code: int | None
    summary: dict[str, Any]
    error: str | None


def json_ready(value: Any) -> Any:
    """Plain JSON for a summary: NaN becomes null, dates become ISO strings."""
    if isinstance(value, dict):
        return {str(k): json_ready(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_ready(v) for v in value]
    if isinstance(value, float):
        return None if math.isnan(value) or math.isinf(value) else value
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if hasattr(value, "item"):  # numpy scalars
        return json_ready(value.item())
    return value


def _aware(value: dt.datetime | None) -> dt.datetime | None:
    return value if value is None or value.tzinfo else value.replace(tzinfo=dt.UTC)


def _record(row: sa.Row) -> RunRecord:
    summary = row.summary if isinstance(row.summary, dict) else json.loads(row.summary or "{}")
    return RunRecord(run_id=row.run_id, job=row.job, status=row.status, step=row.step,
                     started_at=_aware(row.started_at), finished_at=_aware(row.finished_at), host=row.host,
                     pid=row.pid, triggered_by=row.triggered_by, exit_code=row.exit_code, summary=summary or {},
                     error=row.error)


def start_run(engine: Engine, *, job: str, triggered_by: str) -> int:
    if job not in JOBS:
        raise ValueError(f"job must be one of {JOBS}, not {job!r}")
    with engine.begin() as connection:
        return connection.execute(job_runs.insert().values(
            job=job, status="running", step="start", started_at=dt.datetime.now(dt.UTC), host=socket.gethostname(),
            pid=os.getpid(), triggered_by=triggered_by, summary={},
        )).inserted_primary_key[0]


def set_step(engine: Engine, run_id: int, step: str) -> None:
    with engine.begin() as connection:
        connection.execute(job_runs.update().where(job_runs.c.run_id == run_id).values(step=step))


def finish_run(engine: Engine, run_id: int, *, status: str, exit_code: int, summary: dict[str, Any],
               error: str | None = None) -> None:
    with engine.begin() as connection:
        connection.execute(job_runs.update().where(job_runs.c.run_id == run_id).values(
            status=status, exit_code=exit_code, summary=json_ready(summary), error=error,
            finished_at=dt.datetime.now(dt.UTC),
        ))


def mark_crashed(engine: Engine, *, job: str) -> list[int]:
    """Mark every "running" row of ``job`` crashed; call only while holding the job's lock."""
    with engine.begin() as connection:
        ids = connection.execute(sa.select(job_runs.c.run_id).where(
            job_runs.c.job == job, job_runs.c.status == "running")).scalars().all()
        if ids:
            connection.execute(job_runs.update().where(job_runs.c.run_id.in_(ids)).values(
                status="crashed", finished_at=dt.datetime.now(dt.UTC),
                error="the process died before finishing (found by the next run holding the lock)"))
    return list(ids)


def list_runs(engine: Engine, *, job: str | None = None, limit: int = 50) -> list[RunRecord]:
    query = sa.select(job_runs).order_by(job_runs.c.run_id.desc()).limit(limit)
    if job is not None:
        query = query.where(job_runs.c.job == job)
    with engine.connect() as connection:
        return [_record(row) for row in connection.execute(query)]


def get_run(engine: Engine, run_id: int) -> RunRecord | None:
    with engine.connect() as connection:
        row = connection.execute(sa.select(job_runs).where(job_runs.c.run_id == run_id)).first()
    return None if row is None else _record(row)


def record_drift(engine: Engine, *, run_id: int | None, summary: dict[str, Any], html_path: str, html_sha256: str) -> int:
    """Keep a drift check's outcome (``summary`` from ``DriftResult.summary()``)."""
    windows = summary["windows"]
    with engine.begin() as connection:
        return connection.execute(drift_reports.insert().values(
            run_id=run_id, created_at=dt.datetime.now(dt.UTC),
            reference_start=dt.date.fromisoformat(windows["reference"][0]),
            reference_end=dt.date.fromisoformat(windows["reference"][1]),
            current_start=dt.date.fromisoformat(windows["current"][0]),
            current_end=dt.date.fromisoformat(windows["current"][1]),
            rows_reference=summary["rows"]["reference"], rows_current=summary["rows"]["current"],
            features_checked=summary["features_checked"], features_drifted=len(summary["drifted_features"]),
            drift_detected=bool(summary["drift_detected"]), columns=json_ready(summary), html_path=html_path,
            html_sha256=html_sha256,
        )).inserted_primary_key[0]


def latest_drift(engine: Engine) -> dict[str, Any] | None:
    """The latest drift check: its stored summary plus report id, run id and file details."""
    with engine.connect() as connection:
        row = connection.execute(sa.select(drift_reports).order_by(drift_reports.c.report_id.desc()).limit(1)).first()
    if row is None:
        return None
    columns = row.columns if isinstance(row.columns, dict) else json.loads(row.columns)
    return {**columns, "report_id": row.report_id, "run_id": row.run_id, "created_at": _aware(row.created_at),
            "html_path": row.html_path, "html_sha256": row.html_sha256}
