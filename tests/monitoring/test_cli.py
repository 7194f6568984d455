"""``concord drift`` and ``concord retrain`` exit codes, and settings errors that name the field."""

from __future__ import annotations

import pandas as pd
import pytest
from typer.testing import CliRunner

from api.cli import app
from tests.monitoring.test_drift import stationary_panel


@pytest.fixture
def workdir(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CONCORD_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("CONCORD_DATABASE_URL", raising=False)
    return tmp_path


def test_drift_exit_codes(workdir, monkeypatch) -> None:
    runner = CliRunner()
    nothing = runner.invoke(app, ["drift"])
    assert nothing.exit_code == 2 and "concord features build" in nothing.output
    panel = stationary_panel()
    monkeypatch.setattr("api.cli.drift_cmd.load_panel", lambda engine, **kwargs: panel)
    calm = runner.invoke(app, ["drift"])
    assert calm.exit_code == 0 and "no drift" in calm.output and "report" in calm.output
    moved = panel.copy()
    moved.loc[moved["period_start"] >= moved["period_start"].max() - pd.Timedelta(weeks=3), "pet_total_n_4w"] += 6
    monkeypatch.setattr("api.cli.drift_cmd.load_panel", lambda engine, **kwargs: moved)
    found = runner.invoke(app, ["drift", "--period", str(moved["period_start"].max().date())])
    assert found.exit_code == 1 and "drift found" in found.output and "1 of 4 features drifted" in found.output
    assert list((workdir / "reports" / "monitoring").glob("drift-*.json"))


def test_bad_monitoring_settings_exit_2_naming_the_field(workdir, monkeypatch) -> None:
    monkeypatch.setenv("CONCORD_MONITORING__PROMOTION_MARGIN", "-0.1")
    result = CliRunner().invoke(app, ["retrain"])
    assert result.exit_code == 2 and "monitoring.promotion_margin" in result.output
    monkeypatch.delenv("CONCORD_MONITORING__PROMOTION_MARGIN")
    monkeypatch.setenv("CONCORD_MONITORING__SOURCE_QUERIES", '{"petitionz": "SELECT 1"}')
    result = CliRunner().invoke(app, ["drift"])
    assert result.exit_code == 2 and "petitionz" in result.output


def test_retrain_without_records_fails_with_exit_1(workdir) -> None:
    result = CliRunner().invoke(app, ["retrain", "--no-counts"])
    assert result.exit_code == 1 and "serving model is unchanged" in result.output
