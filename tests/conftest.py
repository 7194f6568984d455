"""Shared fixtures: a migrated database on SQLite and on the real PostgreSQL.

Every test that takes ``engine`` runs twice, once per backend. PostgreSQL
tests get a schema of their own (so xdist workers never collide) that is
dropped afterwards. Under ``CI=true`` a missing PostgreSQL fails the test;
on a developer machine it skips.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from threadpoolctl import threadpool_limits

from features.storage import make_engine, upgrade

# Two xdist workers share two cores: OpenMP threads inside each worker would
# only fight each other (a backtest test ran 7x slower with default threads).
threadpool_limits(1)

IN_CI = os.environ.get("CI", "").lower() == "true"
POSTGRES_URL = os.environ.get(
    "CONCORD_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def require_component(available: bool, what: str) -> None:
    """Fail under CI, skip on a developer machine, when a real component is missing."""
    if available:
        return
    if IN_CI:
        pytest.fail(f"{what} is required under CI=true but is not available")
    pytest.skip(f"{what} not available on this developer machine (CI fails instead)")


def postgres_reachable(url: str = POSTGRES_URL) -> bool:
    try:
        with make_engine(url).connect() as connection:
            connection.execute(sa.text("SELECT 1"))
        return True
    except Exception:  # noqa: BLE001 - any failure means "not reachable"
        return False


def _postgres_schema_engine() -> Iterator[Engine]:
    require_component(postgres_reachable(), "PostgreSQL on 127.0.0.1:5432")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = make_engine(POSTGRES_URL)
    with admin.begin() as connection:
        connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    url = sa.make_url(POSTGRES_URL).update_query_dict({"options": f"-csearch_path={schema}"})
    engine = make_engine(url.render_as_string(hide_password=False))
    try:
        yield engine
    finally:
        engine.dispose()
        with admin.begin() as connection:
            connection.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest, tmp_path) -> Iterator[Engine]:
    """A freshly migrated database, once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'concord.db'}")
        upgrade(engine)
        yield engine
        engine.dispose()
    else:
        for engine in _postgres_schema_engine():
            upgrade(engine)
            yield engine


@pytest.fixture
def sqlite_engine(tmp_path) -> Iterator[Engine]:
    """A migrated SQLite database, for tests whose subject is not the backend."""
    engine = make_engine(f"sqlite:///{tmp_path / 'concord.db'}")
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def cli_database(monkeypatch, tmp_path) -> Iterator[Engine]:
    """A migrated SQLite database that ``concord`` commands run in this test will use (data dir = tmp_path)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CONCORD_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("CONCORD_DATABASE_URL", raising=False)
    engine = make_engine(f"sqlite:///{tmp_path / 'concord.db'}")
    upgrade(engine)
    yield engine
    engine.dispose()
