"""The append-only audit trail: who read or changed what, about which areas.

The table refuses UPDATE and DELETE at the database level (migration 0001),
so the application can only append.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from starlette.concurrency import run_in_threadpool

from api.security import User
from features.storage.tables import audit_log

MAX_AREA_IDS = 2000  # keeps a row bounded; the count is always recorded in ``detail``
_APPEND = audit_log.insert()  # built once: per request only the parameters change


def record(
    engine: Engine, *, actor: str, role: str, action: str, resource: str, area_ids: Iterable[str] = (),
    outcome: str, detail: str | None = None,
) -> None:
    """Append one entry as a statement of its own (so a refused request is still recorded).

    One INSERT is atomic by itself, so it runs in autocommit: one round trip
    instead of BEGIN, INSERT and COMMIT, and still durable when it returns.
    """
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        record_on(connection, actor=actor, role=role, action=action, resource=resource, area_ids=area_ids,
                  outcome=outcome, detail=detail)


def record_on(
    connection: Connection, *, actor: str, role: str, action: str, resource: str, area_ids: Iterable[str] = (),
    outcome: str, detail: str | None = None,
) -> None:
    """Append one entry on ``connection``, inside the caller's transaction."""
    connection.execute(_APPEND, _entry(actor=actor, role=role, action=action, resource=resource, area_ids=area_ids,
                                       outcome=outcome, detail=detail))


def _entry(
    *, actor: str, role: str, action: str, resource: str, area_ids: Iterable[str], outcome: str, detail: str | None,
) -> dict:
    """One row of the trail, bounded in size."""
    ids = list(area_ids)
    return {"at": dt.datetime.now(dt.UTC), "actor": actor, "role": role, "action": action, "resource": resource[:256],
            "area_ids": ",".join(ids[:MAX_AREA_IDS]), "outcome": outcome,
            "detail": (detail or "") + (f" ({len(ids)} areas)" if len(ids) > MAX_AREA_IDS else "")}


def record_by(
    engine: Engine, user: User, *, action: str, resource: str, area_ids: Iterable[str] = (), outcome: str,
    detail: str | None = None,
) -> None:
    """``record`` for a signed-in user: the entry's actor and role are the user's."""
    record(engine, actor=user.name, role=user.role, action=action, resource=resource, area_ids=area_ids,
           outcome=outcome, detail=detail)


def append_and_commit(
    connection: Connection, user: User, *, action: str, resource: str, area_ids: Iterable[str] = (),
    outcome: str, detail: str | None = None,
) -> None:
    """Append on the request's own connection and commit, before the answer leaves (one round trip less
    than a connection of its own, and the entry is durable when the user reads the answer)."""
    record_on(connection, actor=user.name, role=user.role, action=action, resource=resource, area_ids=area_ids,
              outcome=outcome, detail=detail)
    connection.commit()


class AsyncTrail:
    """Appends entries from async handlers, durable before the answer leaves.

    On PostgreSQL it writes over an async driver, so a request answered from
    memory needs no worker thread at all; the async engine lives between the
    app's start and stop (``start``/``stop`` from its lifespan). Elsewhere
    (SQLite, or an app used without its lifespan) it writes with ``record``
    in the threadpool.
    """

    def __init__(self, engine: Engine, *, pool_size: int) -> None:
        self.engine = engine
        self.pool_size = pool_size
        self._async: AsyncEngine | None = None

    async def start(self) -> None:
        if self.engine.url.get_backend_name() == "postgresql":
            self._async = create_async_engine(
                self.engine.url.set(drivername="postgresql+psycopg"), pool_size=self.pool_size,
                isolation_level="AUTOCOMMIT", pool_timeout=5.0, connect_args={"connect_timeout": 3})

    async def stop(self) -> None:
        if self._async is not None:
            await self._async.dispose()
            self._async = None

    async def append(
        self, user: User, *, action: str, resource: str, area_ids: Iterable[str] = (), outcome: str,
        detail: str | None = None,
    ) -> None:
        if self._async is None:
            await run_in_threadpool(record_by, self.engine, user, action=action, resource=resource, area_ids=area_ids,
                                    outcome=outcome, detail=detail)
            return
        entry = _entry(actor=user.name, role=user.role, action=action, resource=resource, area_ids=area_ids,
                       outcome=outcome, detail=detail)
        try:
            await self._insert(entry)
        except sa.exc.DBAPIError as exc:
            # A connection the server dropped (a restart) is found here rather than by a ping per
            # request: the pool has discarded it and its siblings, so one retry gets a fresh one.
            # At worst an entry is written twice, never lost.
            if not exc.connection_invalidated:
                raise
            await self._insert(entry)

    async def _insert(self, entry: dict) -> None:
        async with self._async.connect() as connection:  # an autocommit engine: the INSERT is its own transaction
            await connection.execute(_APPEND, entry)
