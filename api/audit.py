"""The append-only audit trail: who read or changed what, about which areas.

The table refuses UPDATE and DELETE at the database level (migration 0001),
so the application can only append.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from sqlalchemy.engine import Engine

from features.storage.tables import audit_log

MAX_AREA_IDS = 2000  # keeps a row bounded; the count is always recorded in ``detail``


def record(
    engine: Engine, *, actor: str, role: str, action: str, resource: str, area_ids: Iterable[str] = (),
    outcome: str, detail: str | None = None,
) -> None:
    ids = list(area_ids)
    with engine.begin() as connection:
        connection.execute(audit_log.insert().values(
            at=dt.datetime.now(dt.UTC), actor=actor, role=role, action=action, resource=resource[:256],
            area_ids=",".join(ids[:MAX_AREA_IDS]), outcome=outcome,
            detail=(detail or "") + (f" ({len(ids)} areas)" if len(ids) > MAX_AREA_IDS else ""),
        ))
