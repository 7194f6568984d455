"""The append-only audit trail: who read or changed what, about which areas.

The table refuses UPDATE and DELETE at the database level (migration 0001),
so the application can only append.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from sqlalchemy.engine import Connection, Engine

from api.security import User
from features.storage.tables import audit_log

MAX_AREA_IDS = 2000  # keeps a row bounded; the count is always recorded in ``detail``


def record(
    engine: Engine, *, actor: str, role: str, action: str, resource: str, area_ids: Iterable[str] = (),
    outcome: str, detail: str | None = None,
) -> None:
    """Append one entry in a transaction of its own (so a refused request is still recorded)."""
    with engine.begin() as connection:
        record_on(connection, actor=actor, role=role, action=action, resource=resource, area_ids=area_ids,
                  outcome=outcome, detail=detail)


def record_on(
    connection: Connection, *, actor: str, role: str, action: str, resource: str, area_ids: Iterable[str] = (),
    outcome: str, detail: str | None = None,
) -> None:
    """Append one entry on ``connection``, inside the caller's transaction."""
    ids = list(area_ids)
    connection.execute(audit_log.insert().values(
        at=dt.datetime.now(dt.UTC), actor=actor, role=role, action=action, resource=resource[:256],
        area_ids=",".join(ids[:MAX_AREA_IDS]), outcome=outcome,
        detail=(detail or "") + (f" ({len(ids)} areas)" if len(ids) > MAX_AREA_IDS else ""),
    ))


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
