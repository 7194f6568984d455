"""Change detection for incremental builds: what changed since the last build, and from when.

A feature at period t depends only on versions recorded before t starts, so
the earliest knowledge date at which the database differs from the last
build bounds what must be recomputed. Fingerprints are computed by SQL
group-bys (per ``recorded_on`` day for versioned records, per
``period_start`` for population, per ``announced_on`` for policies): the
database scans, Python receives one small row per day. Changes that can
move every row (areas, adjacency, policy areas, a deleted version) force a
full rebuild instead.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import numpy as np
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from features.pipeline.snapshot import before, day
from features.storage.tables import adjacency, areas, mediation_cases, petitions, policies, policy_areas, population

Fingerprints = dict[str, dict[str, list[float]]]
_BY_DATE = (
    ("petitions", petitions, "recorded_on", ("version",)),
    ("mediation", mediation_cases, "recorded_on", ("version",)),
    ("population", population, "period_start", ("residents",)),
    ("policies", policies, "announced_on", ("households_affected",)),
)
VERSIONED = ("petitions", "mediation")
_GLOBAL = (("areas", areas), ("adjacency", adjacency), ("policy_areas", policy_areas))


def fingerprints(engine: Engine, *, as_of: dt.date, skip: tuple[str, ...] = ()) -> Fingerprints:
    """Per kind, per date: [rows, sum of a content column, highest batch]; plus whole-table counts.

    ``skip`` leaves out kinds a caller answers from memory: petitions and
    mediation cases (``known.Known.fingerprints``), population
    (``population_cache.Population.fingerprints``).
    """
    out: Fingerprints = {}
    with engine.connect() as connection:
        for kind, table, date_col, sums in _BY_DATE:
            if kind in skip:
                continue
            date = day(table.c[date_col])
            cols = [date, sa.func.count()] + [sa.func.coalesce(sa.func.sum(table.c[s]), 0) for s in sums]
            if "batch_id" in table.c:
                cols.append(sa.func.max(table.c.batch_id))
            rows = connection.execute(sa.select(*cols).where(before(table.c[date_col], as_of)).group_by(date)).all()
            out[kind] = {str(r[0])[:10]: [float(v or 0) for v in r[1:]] for r in rows}
        for kind, table in _GLOBAL:
            count = connection.execute(sa.select(sa.func.count()).select_from(table)).scalar()
            top = connection.execute(sa.select(sa.func.max(table.c.batch_id))).scalar() if "batch_id" in table.c else 0
            out[kind] = {"all": [float(count), float(top or 0)]}
    return out


def per_day(days: np.ndarray, rows: Iterable, sums: Iterable, batches: Iterable) -> dict[str, list[float]]:
    """One kind's fingerprint from aggregates made in memory per epoch day (``known``, ``population_cache``),
    in exactly the form the SQL group-by of ``fingerprints`` gives: {ISO day: [rows, sum, highest batch]}."""
    keys = np.datetime_as_string(np.asarray(days).astype("datetime64[D]"), unit="D").tolist()
    return {day: [float(n), float(total or 0), float(batch)] for day, n, total, batch in zip(keys, rows, sums, batches)}


def first_change(old: Fingerprints, new: Fingerprints) -> tuple[dt.date | None, str | None]:
    """(earliest date whose data differ, reason to rebuild in full or None)."""
    for kind, _table in _GLOBAL:
        if old.get(kind) != new.get(kind):
            return None, f"{kind} changed"
    earliest: dt.date | None = None
    for kind, *_ in _BY_DATE:
        before, after = old.get(kind, {}), new.get(kind, {})
        for stamp in set(before) | set(after):
            if before.get(stamp) == after.get(stamp):
                continue
            if kind in ("petitions", "mediation") and after.get(stamp, [0])[0] < before.get(stamp, [0])[0]:
                return None, f"{kind} recorded on {stamp} were removed"
            date = dt.date.fromisoformat(stamp)
            earliest = date if earliest is None else min(earliest, date)
    return earliest, None
