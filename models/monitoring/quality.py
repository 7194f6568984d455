"""Data-quality checks on the records behind a drift check: new values, silent areas, missing features.

Drift scores say that a distribution moved; these say why an operator
should look at the data office first: a value never seen before in a coded
column (a renamed category, a new petition channel), an area that used to
report every week and has gone silent (a broken export, not peace), a
feature that has started to be missing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from features.storage.tables import mediation_cases, petitions

#: Coded record columns whose values are compared between the windows: (table, column, label).
CODED_COLUMNS: tuple[tuple[sa.Table, str, str], ...] = (
    (petitions, "category", "petitions.category"),
    (petitions, "channel", "petitions.channel"),
    (mediation_cases, "dispute_type", "mediation.dispute_type"),
    (mediation_cases, "outcome", "mediation.outcome"),
    (mediation_cases, "origin", "mediation.origin"),
)


@dataclass(frozen=True)
class Quality:
    new_values: dict[str, list[str]] = field(default_factory=dict)
    stopped_reporting: list[str] = field(default_factory=list)
    missing_rises: dict[str, dict[str, float]] = field(default_factory=dict)

    def reasons(self) -> list[str]:
        out = [f"new values in {column}: {', '.join(values[:5])}" for column, values in self.new_values.items()]
        if self.stopped_reporting:
            out.append(f"{len(self.stopped_reporting)} areas stopped reporting")
        out += [f"{name} missing in {share['current']:.0%} of current rows (reference {share['reference']:.0%})"
                for name, share in self.missing_rises.items()]
        return out


def record_frame(engine: Engine, *, start: dt.date, end: dt.date) -> pd.DataFrame:
    """First versions of petitions and mediation cases recorded in [start, end]: one row per record,
    with the coded columns named ``<kind>.<column>`` (empty for the other kind) and ``area_id``."""
    frames = []
    for table in (petitions, mediation_cases):
        columns = [label for t, _, label in CODED_COLUMNS if t is table]
        select = sa.select(table.c.area_id, table.c.recorded_on,
                           *[table.c[label.split(".")[1]].label(label) for label in columns]) \
            .where(table.c.version == 1, table.c.recorded_on >= start, table.c.recorded_on <= end)
        with engine.connect() as connection:
            frames.append(pd.DataFrame(connection.execute(select).all(), columns=["area_id", "recorded_on", *columns]))
    out = pd.concat(frames, ignore_index=True)
    for _, _, label in CODED_COLUMNS:
        out[label] = out[label].astype("string")
    out["area_id"] = out["area_id"].astype("string")
    out["recorded_on"] = pd.to_datetime(out["recorded_on"])
    return out


def new_values(reference: pd.DataFrame, current: pd.DataFrame) -> dict[str, list[str]]:
    out = {}
    for _, _, label in CODED_COLUMNS:
        seen = set(reference[label].dropna())
        fresh = sorted(set(current[label].dropna()) - seen)
        if fresh:
            out[label] = fresh
    return out


def stopped_reporting(reference: pd.DataFrame, current: pd.DataFrame, *, reference_periods: int, period_days: int,
                      min_share: float) -> list[str]:
    """Areas with records in at least ``min_share`` of the reference periods and none in the current window."""
    if reference.empty:
        return []
    periods = reference.assign(slot=(reference["recorded_on"] - reference["recorded_on"].min()).dt.days // period_days)
    active = periods.groupby("area_id", observed=True)["slot"].nunique()
    regular = set(active[active >= min_share * reference_periods].index)
    return sorted(regular - set(current["area_id"].dropna()))


def missing_rises(reference: pd.DataFrame, current: pd.DataFrame, *, features: list[str], rise: float) -> dict[str, dict[str, float]]:
    """Features whose share of missing values grew by more than ``rise``."""
    ref, cur = reference[features].isna().mean(), current[features].isna().mean()
    grown = cur - ref
    return {name: {"reference": float(ref[name]), "current": float(cur[name])} for name in grown[grown > rise].index}
