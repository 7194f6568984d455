"""Region scoping: the areas a user may see are their region and everything under it."""

from __future__ import annotations

import threading

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from features.storage.tables import areas, load_batches


def subtree(region_id: str) -> sa.CTE:
    """A recursive CTE of ``region_id`` and all its descendants (SQLite and PostgreSQL)."""
    base = sa.select(areas.c.area_id).where(areas.c.area_id == region_id).cte("region_areas", recursive=True)
    child = areas.alias("child")
    return base.union_all(sa.select(child.c.area_id).join(base, child.c.parent_id == base.c.area_id))


def within(connection: Connection, *, region_id: str, area_id: str) -> bool:
    """Is ``area_id`` the region or under it? Walks up from the area (a handful of key lookups)
    instead of down the region's subtree (thousands of rows for a city)."""
    return region_id in lineage(connection, area_id=area_id)


def lineage(connection: Connection, *, area_id: str, max_depth: int = 32) -> list[str]:
    """The area and its ancestors, nearest first (bounded, so a parent cycle cannot loop)."""
    up = (sa.select(areas.c.area_id, areas.c.parent_id, sa.literal(0).label("depth"))
          .where(areas.c.area_id == area_id).cte("lineage", recursive=True))
    parent = areas.alias("parent")
    up = up.union_all(
        sa.select(parent.c.area_id, parent.c.parent_id, (up.c.depth + 1).label("depth"))
        .join(up, parent.c.area_id == up.c.parent_id).where(up.c.depth < max_depth)
    )
    return list(connection.execute(sa.select(up.c.area_id).order_by(up.c.depth)).scalars())


def region_area_ids(connection: Connection, *, region_id: str) -> set[str]:
    tree = subtree(region_id)
    return set(connection.execute(sa.select(tree.c.area_id)).scalars())


def is_root(connection: Connection, *, area_id: str) -> bool:
    """The area has no parent: its subtree is the whole hierarchy."""
    row = connection.execute(sa.select(areas.c.parent_id).where(areas.c.area_id == area_id)).first()
    return row is not None and row.parent_id is None


class LineageCache:
    """Each area's lineage, kept while the hierarchy is unchanged.

    Region checks run on every request; the hierarchy changes only when
    areas are loaded, so the cache is keyed by the latest ``areas`` load
    batch (one tiny query) and emptied when it moves.
    """

    def __init__(self, max_items: int = 200_000) -> None:
        self.max_items = max_items
        self._version: object = None
        self._lineages: dict[str, list[str]] = {}
        self._lock = threading.Lock()

    def lineage(self, connection: Connection, *, area_id: str) -> list[str]:
        version = connection.execute(
            sa.select(sa.func.max(load_batches.c.batch_id)).where(load_batches.c.kind == "areas")).scalar()
        with self._lock:
            if version != self._version:
                self._version, self._lineages = version, {}
            cached = self._lineages.get(area_id)
        if cached is not None:
            return cached
        found = lineage(connection, area_id=area_id)
        with self._lock:
            if len(self._lineages) >= self.max_items:
                self._lineages.clear()
            if version == self._version:
                self._lineages[area_id] = found
        return found

    def within(self, connection: Connection, *, region_id: str, area_id: str) -> bool:
        return region_id in self.lineage(connection, area_id=area_id)

    def is_root(self, connection: Connection, *, area_id: str) -> bool:
        """The area exists and has no parent."""
        return self.lineage(connection, area_id=area_id) == [area_id]
