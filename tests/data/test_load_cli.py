"""``concord load``: exit codes and what a person reads."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from api.cli import app
from features.storage import make_engine
from features.storage.tables import areas as areas_table
from tests.utils.records import frames_by_kind, write_records_file

runner = CliRunner()


@pytest.fixture
def env(tmp_path, monkeypatch):
    monkeypatch.setenv("CONCORD_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("CONCORD_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("CONCORD_SETTINGS_FILE", str(tmp_path / "absent.toml"))
    return tmp_path


def test_load_reports_added_then_already_loaded(env) -> None:
    path = write_records_file(frames_by_kind()["areas"], env / "areas.csv")
    first = runner.invoke(app, ["load", "areas", str(path)])
    assert first.exit_code == 0, first.output
    assert "9 added, 0 corrected, 0 unchanged (batch 1)" in first.output
    again = runner.invoke(app, ["load", "areas", str(path)])
    assert again.exit_code == 0 and "already loaded" in again.output
    engine = make_engine(f"sqlite:///{env / 'cli.db'}")
    with engine.connect() as connection:
        assert connection.execute(sa.select(sa.func.count()).select_from(areas_table)).scalar_one() == 9
    engine.dispose()


def test_rejection_lists_every_error_and_exits_1(env) -> None:
    frames = frames_by_kind()
    assert runner.invoke(app, ["load", "areas", str(write_records_file(frames["areas"], env / "a.csv"))]).exit_code == 0
    bad = frames["petitions"].copy()
    bad.loc[3, "received_on"] = "2023-13-45"
    bad.loc[0, "area_id"] = "NOPE"
    result = runner.invoke(app, ["load", "petitions", str(write_records_file(bad, env / "p.csv"))])
    assert result.exit_code == 1
    assert "2 error(s); nothing was written" in result.output
    assert "row 2, column area_id: unknown area_id (load areas first) 'NOPE'" in result.output
    assert "row 5, column received_on: unparseable date '2023-13-45'" in result.output


def test_mapping_and_encoding_options(env) -> None:
    frame = frames_by_kind()["areas"].rename(columns={"area_id": "编码"})
    path = write_records_file(frame, env / "areas-gbk.csv", encoding="gb18030")
    mapping = env / "map.yaml"
    mapping.write_text("编码: area_id\n", encoding="utf-8")
    result = runner.invoke(app, ["load", "areas", str(path), "--mapping", str(mapping), "--encoding", "gb18030"])
    assert result.exit_code == 0, result.output
    assert "9 added" in result.output


def test_bad_kind_and_bad_mapping_file_fail_cleanly(env) -> None:
    path = write_records_file(frames_by_kind()["areas"], env / "areas.csv")
    assert runner.invoke(app, ["load", "people", str(path)]).exit_code == 2
    mapping = env / "map.yaml"
    mapping.write_text("[1, 2]\n", encoding="utf-8")
    result = runner.invoke(app, ["load", "areas", str(path), "--mapping", str(mapping)])
    assert result.exit_code == 1 and "mapping" in result.output
