"""The admin commands: users and the model registry, through the real CLI."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from api.cli import app
from features.storage.tables import audit_log, users
from models.jobs import train_and_register
from tests.utils.scored_city import FEATURES, insert_areas, synthetic_panel


@pytest.fixture
def cli_env(cli_database, tmp_path):
    insert_areas(cli_database)
    return cli_database, tmp_path


def run(*args: str):
    return CliRunner().invoke(app, list(args))


def test_users_add_prints_the_token_once_and_stores_only_its_hash(cli_env) -> None:
    engine, _ = cli_env
    result = run("users", "add", "li", "--role", "officer", "--region", "D1")
    assert result.exit_code == 0, result.output
    token = result.output.strip().splitlines()[-1]
    with engine.connect() as connection:
        stored = connection.execute(sa.select(users.c.token_hash)).scalar_one()
    assert len(token) > 30 and token not in stored
    assert "li" in run("users", "list").output and token not in run("users", "list").output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--role", "king", "--region", "D1"], "role must be one of"),
        (["--role", "officer", "--region", "NOWHERE"], "not a known area_id"),
    ],
)
def test_users_add_refuses_bad_input(cli_env, args, message) -> None:
    result = run("users", "add", "li", *args)
    assert result.exit_code == 1 and message in result.output


def test_users_revoke_and_audit(cli_env) -> None:
    engine, _ = cli_env
    run("users", "add", "li", "--role", "officer", "--region", "D1")
    assert run("users", "revoke", "li").exit_code == 0
    assert run("users", "revoke", "li").exit_code == 1
    assert run("users", "add", "li", "--role", "analyst", "--region", "X0").exit_code == 0
    with engine.connect() as connection:
        actions = connection.execute(sa.select(audit_log.c.action).order_by(audit_log.c.entry_id)).scalars().all()
    assert actions == ["add_user", "revoke_user", "add_user"]


def test_models_list_show_promote_rollback(cli_env) -> None:
    engine, data_dir = cli_env
    panel = synthetic_panel([f"C1{i:02d}" for i in range(1, 7)])
    first = train_and_register(engine, panel=panel, feature_names=FEATURES, registry_dir=data_dir / "registry", catalogue_hash="c")
    second = train_and_register(engine, panel=panel, feature_names=FEATURES, registry_dir=data_dir / "registry", catalogue_hash="c")
    listing = run("models", "list")
    assert first.version in listing.output and second.version in listing.output
    assert '"training_window"' in run("models", "show", first.version).output
    assert run("models", "show", "v-nope").exit_code == 1
    assert run("models", "promote", first.version).exit_code == 0
    assert run("models", "rollback").exit_code == 0
    assert f"{second.version} now serving" in run("models", "promote", second.version).output


def test_promote_refuses_a_tampered_artifact(cli_env) -> None:
    engine, data_dir = cli_env
    panel = synthetic_panel([f"C1{i:02d}" for i in range(1, 7)])
    model = train_and_register(engine, panel=panel, feature_names=FEATURES, registry_dir=data_dir / "registry",
                               catalogue_hash="c", promote=False)
    (data_dir / "registry" / f"{model.version}.joblib").write_bytes(b"not a model")
    result = run("models", "promote", model.version)
    assert result.exit_code == 1 and "checksum" in result.output
