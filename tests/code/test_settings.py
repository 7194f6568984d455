"""Settings: environment over file over defaults; bad values are named; no default secret in production."""

from __future__ import annotations

import pytest
from pydantic import ValidationError
from typer.testing import CliRunner

from api.cli import app
from api.settings import Settings


@pytest.fixture(autouse=True)
def clean_env(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    for name in ("CONCORD_SETTINGS_FILE", "CONCORD_ENV", "CONCORD_HASH_KEY", "CONCORD_DATA_DIR", "CONCORD_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)


def test_defaults_use_sqlite_under_the_data_dir(tmp_path) -> None:
    settings = Settings(data_dir=tmp_path / "d")
    assert settings.db_url == f"sqlite:///{(tmp_path / 'd' / 'concord.db').resolve()}"
    assert settings.suppression_k == 5 and settings.label.horizon == 1


def test_file_then_environment(monkeypatch, tmp_path) -> None:
    (tmp_path / "concord.toml").write_text('period = "month"\nsuppression_k = 10\n[label]\nhorizon = 2\n')
    monkeypatch.setenv("CONCORD_SUPPRESSION_K", "7")
    settings = Settings()
    assert (settings.period, settings.suppression_k, settings.label.horizon) == ("month", 7, 2)


def test_production_refuses_the_development_key(monkeypatch) -> None:
    monkeypatch.setenv("CONCORD_ENV", "production")
    with pytest.raises(ValidationError, match="CONCORD_HASH_KEY"):
        Settings()
    monkeypatch.setenv("CONCORD_HASH_KEY", "a-real-secret")
    assert Settings().env == "production"


@pytest.mark.parametrize(
    ("name", "value", "field"),
    [
        ("CONCORD_SUPPRESSION_K", "0", "suppression_k"),
        ("CONCORD_PERIOD", "fortnight", "period"),
        ("CONCORD_LABEL__HORIZON", "9", "label.horizon"),
        ("CONCORD_LEVELS__MEDIUM", "0.9", "levels"),
    ],
)
def test_cli_names_the_bad_setting_and_exits_2(monkeypatch, name, value, field) -> None:
    monkeypatch.setenv(name, value)
    result = CliRunner().invoke(app, ["db", "current"])
    assert result.exit_code == 2
    assert field in result.output


def test_unknown_setting_in_the_file_is_refused(tmp_path) -> None:
    (tmp_path / "concord.toml").write_text("suppresion_k = 3\n")
    with pytest.raises(ValidationError, match="suppresion_k"):
        Settings()
