"""Columnar reads through Apache Arrow's ADBC drivers (SQLite and PostgreSQL).

``sqlite3`` and ``psycopg`` hand every value to Python as an object; at
millions of rows that costs far more than the query. ADBC drivers return
Arrow columns instead (PostgreSQL through binary ``COPY``), so no Python
object is made per value. ``read_arrow`` answers ``None`` whenever it cannot
serve a statement (another backend, an in-memory SQLite database, a driver
that is not installed or fails): the caller then reads through the DB-API
cursor as before.

SQLite is dynamically typed and ADBC's SQLite driver infers each column's
type from the rows of a batch, failing when a later batch disagrees (a
column whose first batch is all NULL is taken as INT64). The whole result
is therefore read as one batch, so the inference sees every row; the caller
converts each column to the dtype the cursor path gives, whatever Arrow type
it arrived as.
"""

from __future__ import annotations

import logging
import os
from urllib.parse import quote

from typing import TYPE_CHECKING

import pyarrow as pa
import sqlalchemy as sa

if TYPE_CHECKING:  # the drivers are imported where used: neither the API nor a build without them loads them
    from adbc_driver_manager import AdbcDatabase

log = logging.getLogger(__name__)

_ONE_BATCH = str(1 << 30)  # rows per batch (the driver refuses INT_MAX): the whole result, so type inference sees every row


# ADBC's low-level API (``adbc_driver_manager``: database, connection, statement), not its DB-API module: every read
# here fetches one whole result, and that module's own imports (pyarrow.dataset among them) sat on the first read's path.
def _sqlite(url: sa.URL):
    import adbc_driver_sqlite

    path = url.database
    if not path or path == ":memory:" or path.startswith("file:") or url.query or not os.path.isfile(path):
        return None  # in-memory, URI-style or missing: only the engine's own connection sees it
    return adbc_driver_sqlite.connect(f"file:{quote(os.path.abspath(path))}?mode=ro"), {"adbc.sqlite.query.batch_rows": _ONE_BATCH}


def _postgres(url: sa.URL):
    import adbc_driver_postgresql

    uri = url.set(drivername="postgresql").render_as_string(hide_password=False)
    return adbc_driver_postgresql.connect(uri), {}


def _query(database: AdbcDatabase, sql: str, options: dict[str, str]) -> pa.Table:
    """``sql``'s whole result through one connection and statement of ``database``."""
    import adbc_driver_manager

    with adbc_driver_manager.AdbcConnection(database) as connection, adbc_driver_manager.AdbcStatement(connection) as statement:
        if options:
            statement.set_options(**options)
        statement.set_sql_query(sql)
        stream, _rows = statement.execute_query()
        return pa.RecordBatchReader.from_stream(stream).read_all()


def warm_up(url: sa.URL) -> None:
    """Load ``url``'s ADBC driver before the first read needs it (its modules and the driver's library): a build
    does this in a thread of its own while it asks the database its first questions. SQLite's driver opens an
    in-memory database only, never the build's file (two SQLite libraries must not open one file at once)."""
    try:
        if url.get_backend_name() == "sqlite":
            import adbc_driver_sqlite

            with adbc_driver_sqlite.connect(":memory:") as database:
                _query(database, "SELECT 1", {})
        elif url.get_backend_name() == "postgresql":
            import adbc_driver_manager  # noqa: F401 - loaded for the first read
            import adbc_driver_postgresql  # noqa: F401
    except Exception as error:  # noqa: BLE001 - no driver: the reads use the DB-API cursor, as ``read_arrow`` says
        log.debug("columnar reader not warmed up for %s: %s", url.get_backend_name(), error)


_BACKENDS = {"sqlite": _sqlite, "postgresql": _postgres}
_DRIVERS = {"sqlite": ("pysqlite",), "postgresql": ("psycopg", "psycopg2")}


def read_arrow(connection: sa.Connection, sql: str):
    """``sql`` as a ``pyarrow.Table`` through ADBC, or ``None`` to use the DB-API cursor instead."""
    url = connection.engine.url
    backend, driver = url.get_backend_name(), url.get_driver_name()
    if backend not in _BACKENDS or driver not in _DRIVERS[backend]:
        return None
    if backend == "postgresql" and "%" in sql:  # pyformat escaping ('%%') is psycopg's, not libpq's
        return None
    try:
        opened = _BACKENDS[backend](url)
    except Exception as error:  # noqa: BLE001 - a missing or failing driver means the cursor path
        log.debug("columnar read unavailable for %s: %s", backend, error)
        return None
    if opened is None:
        return None
    database, options = opened
    try:
        return _query(database, sql, options)
    except Exception as error:  # noqa: BLE001 - e.g. a type the driver cannot map: read it the old way
        log.debug("columnar read failed on %s, using the DB-API cursor: %s", backend, error)
        return None
    finally:
        database.close()
