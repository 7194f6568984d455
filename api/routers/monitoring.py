"""Monitoring: the scheduled jobs' runs and the latest drift check (analysts and admins, audited).

Runs and drift checks describe the whole deployment's data, so any analyst
may read their figures; the lists of areas inside them (areas that stopped
reporting) are cut to the reader's region, and the HTML reports, which show
city-wide distributions, are served only to users whose region is a root
of the area tree. Everything else outside a region answers 404, as in the
score routes.
"""

from __future__ import annotations

from pathlib import Path as FilePath
from typing import Annotated, Any, Literal

import sqlalchemy as sa
from fastapi import APIRouter, Depends, HTTPException, Path, Query
from fastapi.responses import HTMLResponse
from sqlalchemy.engine import Engine

from api import audit
from api.deps import EngineDep, SettingsDep, permitted, reject_unknown_query
from api.monitoring_schemas import DriftLatest, RunDetail, RunList, RunSummary
from api.problems import problem_responses
from api.regions import subtree
from api.security import User
from features.storage.tables import areas
from models.monitoring import history
from models.monitoring.jobs import reports_dir

router = APIRouter(prefix="/v1/monitoring", tags=["monitoring"], dependencies=[Depends(reject_unknown_query)])
ERRORS = problem_responses(401, 403, 404, 422)
Analyst = Annotated[User, Depends(permitted("read_monitoring"))]
RunId = Annotated[int, Path(ge=1, le=2_147_483_647, examples=[42], description="a run id (a 32-bit database key)")]


def _headline(run: history.RunRecord) -> str:
    s = run.summary
    if run.status == "crashed" or (run.status == "failed" and run.error):
        return run.error or run.status
    if run.job == "retrain":
        reasons = "; ".join(s.get("reasons", []))
        return f"{s.get('decision', run.status)}: {reasons}" if reasons else str(s.get("decision", run.status))
    return str(s.get("message", run.status)).split("; report ")[0]


def _summary(run: history.RunRecord) -> RunSummary:
    return RunSummary(run_id=run.run_id, job=run.job, status=run.status, step=run.step, started_at=run.started_at,
                      finished_at=run.finished_at, exit_code=run.exit_code, triggered_by=run.triggered_by,
                      headline=_headline(run)[:500])


def _region_areas(engine: Engine, region_id: str, area_ids: list[str]) -> list[str]:
    if not area_ids:
        return []
    tree = subtree(region_id)
    with engine.connect() as connection:
        inside = set(connection.execute(sa.select(tree.c.area_id).where(tree.c.area_id.in_(area_ids))).scalars())
    return [a for a in area_ids if a in inside]


def _is_root(engine: Engine, region_id: str) -> bool:
    with engine.connect() as connection:
        parent = connection.execute(sa.select(areas.c.area_id, areas.c.parent_id).where(areas.c.area_id == region_id)).first()
    return parent is not None and parent.parent_id is None


def _scoped(engine: Engine, user: User, summary: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """The summary with area lists cut to the user's region, and the area ids shown (for the audit)."""
    out = dict(summary)
    shown: list[str] = []
    for holder in (out, out.get("drift") if isinstance(out.get("drift"), dict) else None):
        if holder is not None and "stopped_reporting" in holder:
            holder["stopped_reporting"] = _region_areas(engine, user.region_id, list(holder["stopped_reporting"]))
            shown += holder["stopped_reporting"]
    return out, shown


def _report_name(run: history.RunRecord) -> str | None:
    s = run.summary
    name = s.get("report") if run.job == "retrain" else (s.get("reports") or {}).get("features")
    return FilePath(name).name if name else None


@router.get("/runs", response_model=RunList, responses=ERRORS, summary="Recent runs of the retraining and drift jobs")
def read_runs(
    engine: EngineDep, user: Analyst,
    job: Annotated[Literal["retrain", "drift"] | None, Query(description="only runs of this job")] = None,
    limit: Annotated[int, Query(ge=1, le=200, description="how many runs, newest first")] = 20,
) -> RunList:
    runs = history.list_runs(engine, job=job, limit=limit)
    audit.record_by(engine, user, action="read_monitoring_runs",
                 resource=f"/v1/monitoring/runs?job={job}&limit={limit}", outcome="ok", detail=f"{len(runs)} runs")
    return RunList(items=[_summary(run) for run in runs])


@router.get("/runs/{run_id}", response_model=RunDetail, responses=ERRORS, summary="One run: its summary and a link to its report")
def read_run(engine: EngineDep, user: Analyst, run_id: RunId) -> RunDetail:
    resource = f"/v1/monitoring/runs/{run_id}"
    run = history.get_run(engine, run_id)
    if run is None:
        audit.record_by(engine, user, action="read_monitoring_run", resource=resource, outcome="not_found")
        raise HTTPException(404, f"no run {run_id}")
    summary, shown = _scoped(engine, user, run.summary)
    audit.record_by(engine, user, action="read_monitoring_run", resource=resource, area_ids=shown, outcome="ok")
    link = f"/v1/monitoring/runs/{run_id}/report" if _report_name(run) and _is_root(engine, user.region_id) else None
    return RunDetail(**_summary(run).model_dump(), host=run.host, pid=run.pid, error=run.error, summary=summary, report_url=link)


@router.get("/runs/{run_id}/report", response_class=HTMLResponse, responses=ERRORS,
            summary="A run's HTML report (users whose region covers every area)")
def read_run_report(engine: EngineDep, settings: SettingsDep, user: Analyst, run_id: RunId) -> HTMLResponse:
    resource = f"/v1/monitoring/runs/{run_id}/report"
    run = history.get_run(engine, run_id)
    name = _report_name(run) if run is not None else None
    path = reports_dir(settings.data_dir) / name if name else None
    if path is None or not path.is_file() or not _is_root(engine, user.region_id):
        audit.record_by(engine, user, action="read_monitoring_report", resource=resource, outcome="not_found")
        raise HTTPException(404, f"no report for run {run_id} within your region")
    audit.record_by(engine, user, action="read_monitoring_report", resource=resource, outcome="ok")
    return HTMLResponse(path.read_text(encoding="utf-8"))


@router.get("/drift/latest", response_model=DriftLatest, responses=ERRORS, summary="The latest drift check")
def read_latest_drift(engine: EngineDep, user: Analyst) -> DriftLatest:
    resource = "/v1/monitoring/drift/latest"
    latest = history.latest_drift(engine)
    if latest is None:
        audit.record_by(engine, user, action="read_drift", resource=resource, outcome="not_found")
        raise HTTPException(404, "no drift check has run yet; run `concord drift`")
    latest, shown = _scoped(engine, user, latest)
    audit.record_by(engine, user, action="read_drift", resource=resource, area_ids=shown, outcome="ok")
    windows = latest["windows"]
    link = (f"/v1/monitoring/runs/{latest['run_id']}/report"
            if latest["run_id"] is not None and _is_root(engine, user.region_id) else None)
    return DriftLatest(
        report_id=latest["report_id"], run_id=latest["run_id"], created_at=latest["created_at"],
        model_version=latest.get("model_version"), reference=windows["reference"], current=windows["current"],
        seasonal_reference=bool(windows.get("seasonal_reference", False)), drift_detected=latest["drift_detected"],
        reasons=latest["reasons"], features_checked=latest["features_checked"], drifted_features=latest["drifted_features"],
        new_values=latest["new_values"], stopped_reporting=latest["stopped_reporting"], columns=latest["scores"], report_url=link,
    )
