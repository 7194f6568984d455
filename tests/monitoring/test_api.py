"""The monitoring API: analysts and admins only, region rules, audited, problem+json errors, documented."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from api.app import create_app
from api.security import add_user
from api.settings import Settings
from features.storage.tables import audit_log, drift_reports
from models.monitoring import history
from models.monitoring.drift import DriftConfig
from models.monitoring.jobs import drift_job
from tests.monitoring.test_drift import stationary_panel
from tests.utils.scored_city import insert_areas

PATHS = ("/v1/monitoring/runs", "/v1/monitoring/runs/{run_id}", "/v1/monitoring/runs/{run_id}/report",
         "/v1/monitoring/drift/latest")


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def monitored(engine, tmp_path: Path):
    """Areas X0 → D1, D2 → C1xx, C2xx; a drift run whose silent areas lie in both districts; a crashed retrain."""
    insert_areas(engine)
    drift = drift_job(engine, panel_loader=stationary_panel, config=DriftConfig(), data_dir=tmp_path,
                      registry_dir=tmp_path / "registry", triggered_by="test")
    with engine.begin() as connection:  # as if two communities had gone silent
        connection.execute(drift_reports.update().values(columns={**drift.summary, "stopped_reporting": ["C101", "C201"]}))
    history.finish_run(engine, drift.run_id, status="succeeded", exit_code=drift.exit_code,
                       summary={**drift.summary, "stopped_reporting": ["C101", "C201"], "message": drift.message})
    crashed = history.start_run(engine, job="retrain", triggered_by="cron")
    history.set_step(engine, crashed, "train")
    history.mark_crashed(engine, job="retrain")
    app = create_app(Settings(data_dir=tmp_path, env="test"), engine=engine)
    tokens = {role: auth(add_user(engine, name=f"{role}-{region}", role=role, region_id=region))
              for role, region in (("admin", "X0"), ("analyst", "X0"), ("officer", "X0"), ("reviewer", "X0"))}
    tokens["district_analyst"] = auth(add_user(engine, name="analyst-D1", role="analyst", region_id="D1"))
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client, tokens, drift.run_id, crashed


def test_analysts_and_admins_read_runs_others_are_refused(monitored) -> None:
    client, tokens, drift_run, crashed = monitored
    for who in ("admin", "analyst"):
        body = client.get("/v1/monitoring/runs", headers=tokens[who]).json()
        assert [(r["run_id"], r["job"], r["status"]) for r in body["items"]] == [
            (crashed, "retrain", "crashed"), (drift_run, "drift", "succeeded")]
        assert "died" in body["items"][0]["headline"] and body["items"][0]["step"] == "train"
    assert client.get("/v1/monitoring/runs", params={"job": "drift"}, headers=tokens["admin"]).json()["items"][0]["run_id"] == drift_run
    for who in ("officer", "reviewer"):
        refused = client.get("/v1/monitoring/runs", headers=tokens[who])
        assert refused.status_code == 403 and refused.headers["content-type"].startswith("application/problem+json")
        assert client.get("/v1/monitoring/drift/latest", headers=tokens[who]).status_code == 403
    assert client.get("/v1/monitoring/runs").status_code == 401
    assert client.get("/v1/monitoring/drift/latest", headers=auth("nope")).status_code == 401
    bad = client.get("/v1/monitoring/runs", params={"job": "everything"}, headers=tokens["admin"])
    assert bad.status_code == 422 and "job" in bad.json()["detail"]
    missing = client.get("/v1/monitoring/runs/999", headers=tokens["admin"])
    assert missing.status_code == 404 and missing.json()["title"] == "Not Found"


def test_run_detail_and_report_follow_the_region(monitored) -> None:
    client, tokens, drift_run, _ = monitored
    whole = client.get(f"/v1/monitoring/runs/{drift_run}", headers=tokens["analyst"]).json()
    assert whole["summary"]["stopped_reporting"] == ["C101", "C201"]
    assert whole["report_url"] == f"/v1/monitoring/runs/{drift_run}/report" and whole["exit_code"] == 0
    report = client.get(whole["report_url"], headers=tokens["analyst"])
    assert report.status_code == 200 and report.headers["content-type"].startswith("text/html")
    part = client.get(f"/v1/monitoring/runs/{drift_run}", headers=tokens["district_analyst"]).json()
    assert part["summary"]["stopped_reporting"] == ["C101"] and part["report_url"] is None
    assert client.get(f"/v1/monitoring/runs/{drift_run}/report", headers=tokens["district_analyst"]).status_code == 404
    latest = client.get("/v1/monitoring/drift/latest", headers=tokens["district_analyst"]).json()
    assert latest["stopped_reporting"] == ["C101"] and latest["drift_detected"] is False
    assert latest["run_id"] == drift_run and latest["columns"] and latest["report_url"] is None


def test_every_read_is_audited(monitored, engine) -> None:
    client, tokens, _, _ = monitored
    client.get("/v1/monitoring/drift/latest", headers=tokens["district_analyst"])
    client.get("/v1/monitoring/runs/999", headers=tokens["analyst"])
    with engine.connect() as connection:
        rows = connection.execute(sa.select(audit_log).order_by(audit_log.c.entry_id.desc()).limit(2)).all()
    assert [(r.actor, r.action, r.outcome, r.area_ids) for r in rows] == [
        ("analyst-X0", "read_monitoring_run", "not_found", ""), ("analyst-D1", "read_drift", "ok", "C101")]


def test_no_drift_check_yet_answers_404(engine, tmp_path) -> None:
    insert_areas(engine)
    app = create_app(Settings(data_dir=tmp_path, env="test"), engine=engine)
    token = auth(add_user(engine, name="a", role="analyst", region_id="X0"))
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/v1/monitoring/drift/latest", headers=token)
    assert response.status_code == 404 and "concord drift" in response.json()["detail"]


def test_openapi_documents_the_routes_with_models_and_examples(sqlite_engine, tmp_path) -> None:
    spec = create_app(Settings(data_dir=tmp_path, env="test"), engine=sqlite_engine).openapi()
    for path in PATHS:
        operation = spec["paths"][path]["get"]
        assert {"401", "403", "404", "422"} <= set(operation["responses"]), path
        assert "application/problem+json" in operation["responses"]["403"]["content"]
    ok = spec["paths"]["/v1/monitoring/runs/{run_id}"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert ok["$ref"].endswith("/RunDetail")
    schemas = spec["components"]["schemas"]
    assert schemas["RunDetail"]["properties"]["summary"]["examples"]
    assert schemas["DriftLatest"]["properties"]["drifted_features"]["examples"] == [["pop_migrants_share", "pol_land_requisition_n_52w"]]
