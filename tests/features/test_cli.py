"""``concord features build`` and ``list`` through the real CLI."""

from __future__ import annotations

from typer.testing import CliRunner

from api.cli import app
from features.pipeline import load_panel
from tests.features.conftest import full_city
from tests.features.factories import D, add_petitions, petition


def test_build_then_update_then_month(sqlite_engine, tmp_path) -> None:
    full_city(sqlite_engine)
    env = {"CONCORD_DATA_DIR": str(tmp_path), "CONCORD_DATABASE_URL": sqlite_engine.url.render_as_string(hide_password=False),
           "CONCORD_SETTINGS_FILE": str(tmp_path / "none.toml"), "COLUMNS": "200"}
    runner = CliRunner()
    first = runner.invoke(app, ["features", "build"], env=env)
    assert first.exit_code == 0, first.output
    assert "full build" in first.output and "6 areas" in first.output
    add_petitions(sqlite_engine, [petition(area="S0C0", on=D(2023, 12, 20))])
    second = runner.invoke(app, ["features", "build"], env=env)
    assert second.exit_code == 0 and "incremental" in second.output, second.output
    month = runner.invoke(app, ["features", "build", "--period", "month", "--since", "2023-01-01"], env=env)
    assert month.exit_code == 0, month.output
    assert "pet_total_n_3m" in load_panel(sqlite_engine, data_dir=tmp_path, period="month")
    bad = runner.invoke(app, ["features", "build", "--period", "year"], env=env)
    assert bad.exit_code == 2
    rebuilt = runner.invoke(app, ["features", "build", "--full"], env=env)
    assert rebuilt.exit_code == 0 and "full build (full rebuild requested)" in " ".join(rebuilt.output.split()), rebuilt.output
    both = runner.invoke(app, ["features", "build", "--full", "--since", "2023-01-01"], env=env)
    assert both.exit_code == 2


def test_build_on_an_empty_database_fails_cleanly(tmp_path) -> None:
    env = {"CONCORD_DATA_DIR": str(tmp_path), "CONCORD_SETTINGS_FILE": str(tmp_path / "none.toml")}
    result = CliRunner().invoke(app, ["features", "build"], env=env)
    assert result.exit_code == 1
    assert "load" in result.output
