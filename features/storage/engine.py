"""Engine construction: one place that knows SQLite from PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # noqa: ANN001 - DBAPI hook
    """Foreign keys on, WAL so the API can read while a job writes."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def make_engine(url: str, *, pool_timeout: float = 5.0, pool_size: int = 5) -> Engine:
    """Create an engine for ``url``; SQLite files get their folder created.

    ``pool_pre_ping`` lets the service notice a restarted PostgreSQL and
    reconnect by itself instead of failing on a stale connection.
    ``pool_size`` connections are kept open; the service asks for as many
    as it serves requests at once, since a connection beyond the pool is
    opened and closed per use (a new server process each time).
    """
    parsed = sa.make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(url, connect_args={"timeout": 30})
        sa.event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    connect_args = {"connect_timeout": 3} if parsed.get_backend_name() == "postgresql" else {}
    return sa.create_engine(
        url, pool_pre_ping=True, pool_timeout=pool_timeout, pool_size=pool_size, connect_args=connect_args
    )
