"""The schema migrates on both backends and the audit log cannot be changed."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from features.storage.migrate import alembic_config, current_revision
from features.storage.tables import audit_log, metadata


def test_migrations_create_every_table(engine) -> None:
    names = set(sa.inspect(engine).get_table_names())
    assert set(metadata.tables) <= names
    assert current_revision(engine) is not None


def test_downgrade_and_upgrade_round_trip(engine) -> None:
    from alembic import command

    command.downgrade(alembic_config(engine), "base")
    assert "petitions" not in sa.inspect(engine).get_table_names()
    command.upgrade(alembic_config(engine), "head")
    assert "petitions" in sa.inspect(engine).get_table_names()


@pytest.mark.parametrize("statement", ["UPDATE audit_log SET outcome = 'x'", "DELETE FROM audit_log"])
def test_audit_log_is_append_only(engine, statement: str) -> None:
    row = dict(
        at=dt.datetime.now(dt.UTC), actor="a", role="admin", action="read",
        resource="/v1/x", area_ids="", outcome="ok",
    )
    with engine.begin() as connection:
        connection.execute(audit_log.insert(), row)
    with pytest.raises(sa.exc.DBAPIError, match="append-only"):
        with engine.begin() as connection:
            connection.execute(sa.text(statement))
    with engine.connect() as connection:
        assert connection.execute(sa.select(sa.func.count()).select_from(audit_log)).scalar() == 1
