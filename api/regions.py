"""Region scoping: the areas a user may see are their region and everything under it."""

from __future__ import annotations

import threading

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from api.off_loop import io_point
from api.ttl_cache import MISSING, TtlCache
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
    """The hierarchy held in memory while it is unchanged: each area's parent, and each region's members.

    Region checks run on every request and the hierarchy changes only when
    areas are loaded, so the whole parent map is read once (one narrow query)
    per ``areas`` load batch and walked in memory. That batch number is
    itself asked at most every ``recheck_seconds`` (docs/adr/0013).
    """

    def __init__(self, *, recheck_seconds: float, max_depth: int = 32) -> None:
        self.max_depth = max_depth
        self._batch: TtlCache[str, tuple[object]] = TtlCache(recheck_seconds, max_items=1)
        self._version: object = MISSING
        self._parents: dict[str, str | None] = {}
        self._members: dict[str, frozenset[str]] = {}
        self._lock = threading.Lock()

    def hierarchy(self, engine: Engine) -> dict[str, str | None]:
        """The parent map of the current hierarchy, read again when the areas' load batch moves."""
        (version,) = self._batch.get("areas", lambda: (_areas_batch(engine),))
        with self._lock:
            if version == self._version:
                return self._parents
        io_point()
        with engine.connect() as connection:
            parents = dict(connection.execute(sa.select(areas.c.area_id, areas.c.parent_id)).all())
        with self._lock:
            self._version, self._parents, self._members = version, parents, {}
        return parents

    def lineage(self, engine: Engine, *, area_id: str) -> list[str]:
        """The area and its ancestors, nearest first; empty for an unknown area."""
        return self._walk(self.hierarchy(engine), area_id)

    def _walk(self, parents: dict[str, str | None], area_id: str) -> list[str]:
        """Up the parent map from ``area_id`` (bounded, so a cycle cannot loop)."""
        found: list[str] = []
        current: str | None = area_id
        while current is not None and current in parents and len(found) <= self.max_depth:
            found.append(current)
            current = parents[current]
        return found

    def members(self, engine: Engine, *, region_id: str) -> frozenset[str]:
        """The region and every area under it."""
        parents = self.hierarchy(engine)
        with self._lock:
            cached = self._members.get(region_id)
        if cached is not None:
            return cached
        found = frozenset(area for area in parents if region_id in self._walk(parents, area))
        with self._lock:
            if parents is self._parents:
                self._members[region_id] = found
        return found

    def within(self, engine: Engine, *, region_id: str, area_id: str) -> bool:
        return region_id in self.lineage(engine, area_id=area_id)

    def is_root(self, engine: Engine, *, area_id: str) -> bool:
        """The area exists and has no parent."""
        return self.lineage(engine, area_id=area_id) == [area_id]


def _areas_batch(engine: Engine) -> object:
    with engine.connect() as connection:
        return connection.execute(
            sa.select(sa.func.max(load_batches.c.batch_id)).where(load_batches.c.kind == "areas")).scalar()
