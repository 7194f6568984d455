"""The record history a policy review reads: weekly dispute counts by area and family, and past decisions.

A review asks what past decisions did to disputes, so it needs the counts
of every area, week and dispute family (petitions and mediation cases
together: both are disputes that reached an office, and the simulator and
the field both see decisions raise them alike), the past decisions with
their areas, and what makes areas comparable (population, neighbours).
Records are read as known on ``as_of`` (the latest version of each record
entered before that day), so a review can be reproduced later.

``history_from_frames`` builds the same object from plain frames, so the
recovery test runs on the simulator's frames without a database.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from features.calendar import WeekStart, period_start
from features.contracts import DISPUTE_FAMILIES
from features.storage.tables import (
    adjacency,
    areas,
    mediation_cases,
    petitions,
    policies,
    policy_areas,
    population,
)

FAMILIES: tuple[str, ...] = tuple(DISPUTE_FAMILIES)
POLICY_COLUMNS = ("policy_id", "type", "announced_on", "effective_on", "households_affected", "compensation_ratio",
                  "hearing_held")


@dataclass(frozen=True)
class History:
    """Counts ``(area, week, family)`` and the past decisions, indexed by position."""

    area_ids: np.ndarray  # (A,) str: areas that carry records (the lowest level in use)
    weeks: pd.DatetimeIndex  # (W,) week starts
    counts: np.ndarray  # (A, W, F) int: petitions + mediation cases by event week and family
    residents: np.ndarray  # (A,) float: latest known residents (NaN if never reported)
    neighbours: tuple[np.ndarray, ...]  # per area: positions of adjacent areas
    decisions: pd.DataFrame  # one row per past decision; ``members`` holds area positions
    below: dict[str, list[str]] = field(default_factory=dict)  # any area -> its record areas
    week_start: WeekStart = "monday"

    @property
    def families(self) -> tuple[str, ...]:
        return FAMILIES

    @property
    def cumulative(self) -> np.ndarray:
        """(A, W + 1, F) running sums: a window's count is one subtraction."""
        out = np.zeros((self.counts.shape[0], self.counts.shape[1] + 1, self.counts.shape[2]), np.int64)
        np.cumsum(self.counts, axis=1, out=out[:, 1:])
        return out

    def week_of(self, day: dt.date | pd.Timestamp) -> int:
        """Position of the week holding ``day`` (may fall outside 0..W-1)."""
        start = period_start(pd.DatetimeIndex([pd.Timestamp(day)]), "week", self.week_start)[0]
        return int((start - self.weeks[0]).days // 7)

    def positions(self, area_ids: list[str]) -> np.ndarray:
        """Record-area positions of ``area_ids`` (a street or district stands for every area under it)."""
        index = {a: i for i, a in enumerate(self.area_ids)}
        out: list[int] = []
        for area in area_ids:
            for leaf in self.below.get(area, [area]):
                if leaf in index:
                    out.append(index[leaf])
        return np.unique(np.array(out, dtype=np.int64))


def _leaves(area_frame: pd.DataFrame, record_areas: set[str]) -> dict[str, list[str]]:
    """Each area -> the record areas at or under it (a walk up from every record area)."""
    parent = dict(zip(area_frame["area_id"].astype(str), area_frame["parent_id"], strict=True))
    out: dict[str, list[str]] = {}
    for leaf in sorted(record_areas):
        node, seen = leaf, set()
        while isinstance(node, str) and node and node not in seen:  # a NaN or empty parent ends the walk; cycle-safe
            seen.add(node)
            out.setdefault(node, []).append(leaf)
            node = parent.get(node) or None
    return out


def history_from_frames(
    *, area_frame: pd.DataFrame, adjacency_frame: pd.DataFrame, disputes: pd.DataFrame, residents: pd.DataFrame,
    decisions: pd.DataFrame, decision_areas: pd.DataFrame, week_start: WeekStart = "monday",
    until: dt.date | None = None,
) -> History:
    """Build a ``History``.

    ``disputes``: one row per record with ``area_id``, ``day`` (event date)
    and ``family``; ``residents``: ``area_id``, ``residents`` (latest);
    ``decisions``: POLICY_COLUMNS; ``decision_areas``: ``policy_id``, ``area_id``.
    ``until`` ends the weeks (default: the last event).
    """
    disputes = disputes[disputes["family"].isin(FAMILIES)]
    record_areas = set(disputes["area_id"].astype(str)) | set(
        area_frame.loc[~area_frame["area_id"].isin(area_frame["parent_id"].dropna()), "area_id"].astype(str))
    ids = np.array(sorted(record_areas), dtype=object)
    index = {a: i for i, a in enumerate(ids)}
    days = pd.to_datetime(disputes["day"])
    first = days.min() if len(days) else pd.Timestamp(until or dt.date.today())
    # complete weeks only: a week still running when the records end would look like a drop in disputes
    last = (pd.Timestamp(until) if until is not None else (days.max() if len(days) else first)) - pd.Timedelta(days=6)
    weeks = pd.date_range(period_start(pd.DatetimeIndex([first]), "week", week_start)[0],
                          period_start(pd.DatetimeIndex([last]), "week", week_start)[0], freq="7D")
    counts = np.zeros((len(ids), len(weeks), len(FAMILIES)), np.int32)
    if len(disputes):
        week = ((period_start(pd.DatetimeIndex(days), "week", week_start) - weeks[0]).days // 7).to_numpy()
        fam = pd.Categorical(disputes["family"], categories=FAMILIES).codes
        area = disputes["area_id"].astype(str).map(index).to_numpy()
        ok = (week >= 0) & (week < len(weeks))
        np.add.at(counts, (area[ok], week[ok], fam[ok]), 1)
    res = residents.drop_duplicates("area_id", keep="last").set_index("area_id")["residents"]
    neighbour_lists: list[list[int]] = [[] for _ in ids]
    for a, b in zip(adjacency_frame["area_id"].astype(str), adjacency_frame["neighbor_id"].astype(str), strict=True):
        if a in index and b in index and a != b:
            neighbour_lists[index[a]].append(index[b])
            neighbour_lists[index[b]].append(index[a])
    below = _leaves(area_frame, set(ids))
    history = History(
        area_ids=ids.astype(str), weeks=weeks, counts=counts,
        residents=np.array([float(res.get(a, np.nan)) for a in ids]),
        neighbours=tuple(np.unique(np.array(n, dtype=np.int64)) for n in neighbour_lists),
        decisions=pd.DataFrame(), below=below, week_start=week_start,
    )
    return _with_decisions(history, decisions, decision_areas)


def _with_decisions(history: History, decisions: pd.DataFrame, decision_areas: pd.DataFrame) -> History:
    frame = decisions.loc[:, list(POLICY_COLUMNS)].copy()
    members = decision_areas.groupby("policy_id")["area_id"].apply(lambda s: list(s.astype(str)))
    frame["members"] = [history.positions(members.get(pid, [])) for pid in frame["policy_id"]]
    frame["announced"] = [history.week_of(d) for d in frame["announced_on"]]
    frame["effective"] = [history.week_of(d) for d in frame["effective_on"]]
    frame["hearing_held"] = frame["hearing_held"].astype("boolean")
    for name in ("households_affected", "compensation_ratio"):
        frame[name] = pd.to_numeric(frame[name], errors="coerce").astype(float)
    frame = frame[frame["members"].map(len) > 0].reset_index(drop=True)
    return History(**{**history.__dict__, "decisions": frame})


def _latest_versions(table: sa.Table, key: str, event: str, family: str, as_of: dt.date) -> sa.Select:
    """The latest version of every record entered before ``as_of``: (area_id, day, family)."""
    known = sa.select(table.c[key], sa.func.max(table.c.version).label("version")).where(
        table.c.recorded_on < as_of).group_by(table.c[key]).subquery()
    return (sa.select(table.c.area_id, table.c[event].label("day"), table.c[family].label("family"))
            .join(known, sa.and_(table.c[key] == known.c[key], table.c.version == known.c.version)))


def load_history(engine: Engine, *, as_of: dt.date, week_start: WeekStart = "monday") -> History:
    """The history as the database knew it on ``as_of`` (records entered before that day)."""
    with engine.connect() as connection:
        def frame(statement: sa.Select) -> pd.DataFrame:
            result = connection.execute(statement)
            return pd.DataFrame(result.fetchall(), columns=list(result.keys()))

        disputes = pd.concat([
            frame(_latest_versions(petitions, "petition_id", "received_on", "category", as_of)),
            frame(_latest_versions(mediation_cases, "case_id", "opened_on", "dispute_type", as_of)),
        ], ignore_index=True)
        area_frame = frame(sa.select(areas.c.area_id, areas.c.parent_id, areas.c.level))
        edges = frame(sa.select(adjacency.c.area_id, adjacency.c.neighbor_id))
        latest = sa.select(population.c.area_id, sa.func.max(population.c.period_start).label("latest")).where(
            population.c.period_start < as_of).group_by(population.c.area_id).subquery()
        people = frame(sa.select(population.c.area_id, population.c.residents).join(
            latest, sa.and_(population.c.area_id == latest.c.area_id, population.c.period_start == latest.c.latest)))
        decided = frame(sa.select(*[policies.c[n] for n in POLICY_COLUMNS]).where(policies.c.announced_on < as_of))
        decided_areas = frame(sa.select(policy_areas.c.policy_id, policy_areas.c.area_id))
    disputes = disputes[pd.to_datetime(disputes["day"]) < pd.Timestamp(as_of)] if len(disputes) else disputes
    if area_frame.empty:
        area_frame = pd.DataFrame({"area_id": pd.Series(dtype=str), "parent_id": pd.Series(dtype=object)})
    # the weeks end with the records (an export ends before the day it is read), not at ``as_of``
    until = as_of - dt.timedelta(days=1)
    if len(disputes):
        until = min(until, pd.Timestamp(pd.to_datetime(disputes["day"]).max()).date())
    return history_from_frames(
        area_frame=area_frame, adjacency_frame=edges, disputes=disputes, residents=people, decisions=decided,
        decision_areas=decided_areas, week_start=week_start, until=until,
    )
