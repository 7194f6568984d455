"""Small factories that write records straight into the tables.

They bypass the loaders on purpose: the feature tests must not depend on
ingestion, and they need to place versions with exact ``recorded_on`` dates.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from features.storage.tables import (
    adjacency, areas, load_batches, mediation_cases, petitions, policies, policy_areas, population,
)

_ids = itertools.count(1)
D = dt.date


def _batch(connection: sa.Connection, kind: str, batch_id: int | None = None) -> int:
    """A load batch row (with ``batch_id``: that id, as a load that took its id earlier and commits now)."""
    given = {} if batch_id is None else {"batch_id": batch_id}
    return connection.execute(
        load_batches.insert().values(**given, kind=kind, source="factory", sha256="0" * 64, rows_in=0, rows_added=0,
                                     rows_corrected=0, rows_unchanged=0, loaded_at=dt.datetime.now(dt.UTC),
                                     loaded_by="tests")
    ).inserted_primary_key[0]


def _insert(engine: Engine, table: sa.Table, kind: str, rows: Iterable[dict], batch_id: int | None = None) -> None:
    rows = list(rows)
    if not rows:
        return
    with engine.begin() as connection:
        batch = _batch(connection, kind, batch_id)
        full = []
        for row in rows:
            row = dict(row)
            row.setdefault("content_hash", hashlib.sha256(repr(sorted(row.items())).encode()).hexdigest())
            row["batch_id"] = batch
            full.append(row)
        columns = {c.name for c in table.c}
        keys = sorted({k for r in full for k in r} & columns)
        connection.execute(table.insert(), [{k: r.get(k) for k in keys} for r in full])


def city(engine: Engine, *, streets: int = 2, per_street: int = 3, grids: bool = False, neighbours: bool = True) -> list[str]:
    """A district with ``streets`` streets of ``per_street`` communities each; returns the community ids."""
    rows = [dict(area_id="D", name="district", parent_id=None, level="district")]
    communities = []
    for s in range(streets):
        rows.append(dict(area_id=f"S{s}", name=f"street {s}", parent_id="D", level="street"))
        for c in range(per_street):
            cid = f"S{s}C{c}"
            communities.append(cid)
            rows.append(dict(area_id=cid, name=cid, parent_id=f"S{s}", level="community"))
            if grids:
                rows.append(dict(area_id=f"{cid}G0", name=f"{cid} grid", parent_id=cid, level="grid"))
    _insert(engine, areas, "areas", rows)
    if neighbours:
        edges = [dict(area_id=a, neighbor_id=b) for a, b in zip(communities, communities[1:])]
        _insert(engine, adjacency, "adjacency", edges)
    return communities


def petition(*, area: str, on: D, recorded: D | None = None, category: str = "labour_wages", pid: str | None = None,
             version: int = 1, **extra) -> dict:
    return dict(petition_id=pid or f"P{next(_ids)}", version=version, area_id=area, received_on=on,
                recorded_on=recorded or on, category=category, **extra)


def case(*, area: str, on: D, recorded: D | None = None, dispute_type: str = "neighbour_rights", cid: str | None = None,
         version: int = 1, **extra) -> dict:
    return dict(case_id=cid or f"M{next(_ids)}", version=version, area_id=area, opened_on=on,
                recorded_on=recorded or on, dispute_type=dispute_type, **extra)


def add_petitions(engine: Engine, rows: Iterable[dict], *, batch_id: int | None = None) -> None:
    _insert(engine, petitions, "petitions", rows, batch_id)


def add_cases(engine: Engine, rows: Iterable[dict], *, batch_id: int | None = None) -> None:
    _insert(engine, mediation_cases, "mediation", rows, batch_id)


def add_population(engine: Engine, rows: Iterable[dict]) -> None:
    _insert(engine, population, "population", rows)


def add_policy(engine: Engine, *, pid: str, kind: str, announced: D, effective: D, area_ids: list[str], **extra) -> None:
    _insert(engine, policies, "policies", [dict(policy_id=pid, type=kind, announced_on=announced, effective_on=effective, **extra)])
    with engine.begin() as connection:
        connection.execute(policy_areas.insert(), [dict(policy_id=pid, area_id=a) for a in area_ids])


def delete_all(engine: Engine, table: sa.Table) -> None:
    with engine.begin() as connection:
        connection.execute(table.delete())
