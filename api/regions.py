"""Region scoping: the areas a user may see are their region and everything under it."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from features.storage.tables import areas


def subtree(region_id: str) -> sa.CTE:
    """A recursive CTE of ``region_id`` and all its descendants (SQLite and PostgreSQL)."""
    base = sa.select(areas.c.area_id).where(areas.c.area_id == region_id).cte("region_areas", recursive=True)
    child = areas.alias("child")
    return base.union_all(sa.select(child.c.area_id).join(base, child.c.parent_id == base.c.area_id))


def within(connection: Connection, *, region_id: str, area_id: str) -> bool:
    tree = subtree(region_id)
    return connection.execute(sa.select(tree.c.area_id).where(tree.c.area_id == area_id)).first() is not None
