"""The audit trail's export and database-level protection; readiness when the model file is wrong."""

from __future__ import annotations

import csv
import json
import uuid

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from api import audit
from api.cli import app
from features.storage.roles import RoleError, grant_app_role
from features.storage.tables import audit_log
from models import registry


def test_audit_export_writes_every_entry_and_is_itself_audited(cli_database, tmp_path) -> None:
    engine = cli_database
    for n in range(3):
        audit.record(engine, actor=f"u{n}", role="officer", action="read_score", resource=f"/v1/areas/C{n}/score",
                     area_ids=[f"C{n}"], outcome="ok")
    result = CliRunner().invoke(app, ["audit", "export", "--out", str(tmp_path / "audit.csv")])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader((tmp_path / "audit.csv").open(encoding="utf-8")))
    assert [row["actor"] for row in rows] == ["u0", "u1", "u2"] and rows[0]["area_ids"] == "C0"
    result = CliRunner().invoke(app, ["audit", "export", "--out", str(tmp_path / "audit.jsonl"), "--format", "jsonl"])
    lines = [json.loads(line) for line in (tmp_path / "audit.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(lines) == 4 and lines[-1]["action"] == "export_audit"  # the first export was audited
    bad = CliRunner().invoke(app, ["audit", "export", "--out", "x.csv", "--since", "2026-01-02", "--until", "2026-01-01"])
    assert bad.exit_code == 2


def test_the_service_role_cannot_change_the_audit_log(engine) -> None:
    if engine.dialect.name != "postgresql":
        with pytest.raises(RoleError, match="no roles"):
            grant_app_role(engine, role="concord_app")
        return
    role = f"concord_app_{uuid.uuid4().hex[:8]}"
    grant_app_role(engine, role=role, login=False)
    try:
        with engine.connect() as connection:
            connection.execute(sa.text(f'SET ROLE "{role}"'))
            audit.record_on(connection, actor="svc", role="admin", action="read", resource="/x", outcome="ok")
            for statement in ("UPDATE audit_log SET outcome = 'x'", "DELETE FROM audit_log", "TRUNCATE audit_log"):
                with pytest.raises(sa.exc.ProgrammingError, match="permission denied"):
                    with connection.begin_nested():
                        connection.execute(sa.text(statement))
            assert connection.execute(sa.select(sa.func.count()).select_from(audit_log)).scalar() == 1
            connection.rollback()
        with pytest.raises(RoleError, match="role name"):
            grant_app_role(engine, role="Robert'); DROP TABLE audit_log;--")
    finally:
        with engine.begin() as connection:
            connection.execute(sa.text(f'DROP OWNED BY "{role}"'))
            connection.execute(sa.text(f'DROP ROLE "{role}"'))


def _artifact(city):
    return registry.artifact_file(city.engine, registry_dir=city.client.app.state.settings.registry_dir, version=city.version)


def test_an_altered_model_file_makes_the_service_unready(city) -> None:
    assert city.client.get("/readyz").json()["ready"]
    path = _artifact(city)
    path.write_bytes(path.read_bytes() + b"tampered")
    ready = city.client.get("/readyz")
    assert ready.status_code == 503 and "checksum" in ready.json()["detail"] and ready.json()["database"]
    scores = city.client.get("/v1/hotspots", headers=city.admin)
    assert scores.status_code == 503 and "checksum" in scores.json()["detail"]
    assert city.client.get("/healthz").status_code == 200  # alive, just not ready
    path.unlink()
    missing = city.client.get("/v1/areas/C101/score", headers=city.admin)
    assert missing.status_code == 503 and "missing" in missing.json()["detail"]
