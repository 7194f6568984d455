"""An area's profile and history, always within a user's region.

History joins what the model said (stored scores), what then happened
(observed record counts per period) and what was done about each flag, so
an officer sees the loop of DESIGN.md principle 5 in one place.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from api.regions import lineage, within
from api.scores_query import NotFound  # noqa: F401 - raised here, caught by the routers
from api.suppression import shown_counts
from features.calendar import period_start
from features.contracts import COLLECTIVE_MIN_PEOPLE, CROSS_LEVELS
from features.storage.tables import areas, flag_actions, mediation_cases, petitions, population, scores

POPULATION_COUNTS = ("residents", "registered", "migrants", "low_income_households", "unemployed")
POPULATION_SHARES = ("elderly_share", "rental_share")


def require_area(connection: Connection, *, region_id: str, area_id: str) -> sa.Row:
    """The area's row, or NotFound whether it is missing or outside the region (no leak)."""
    row = None
    if within(connection, region_id=region_id, area_id=area_id):
        row = connection.execute(
            sa.select(areas.c.area_id, areas.c.name, areas.c.parent_id, areas.c.level).where(areas.c.area_id == area_id)
        ).first()
    if row is None:
        raise NotFound(f"no area {area_id!r} in your region")
    return row


def ancestors(connection: Connection, *, area_id: str) -> list[dict]:
    """The chain from the root down to the area's parent."""
    chain = lineage(connection, area_id=area_id)[1:]
    rows = {row.area_id: row for row in connection.execute(
        sa.select(areas.c.area_id, areas.c.name, areas.c.level).where(areas.c.area_id.in_(chain)))} if chain else {}
    return [{"area_id": a, "name": rows[a].name, "level": rows[a].level} for a in reversed(chain) if a in rows]


def area_profile(connection: Connection, *, region_id: str, area_id: str, k: int) -> dict:
    """Name, place in the hierarchy and the latest population summary (small counts suppressed)."""
    row = require_area(connection, region_id=region_id, area_id=area_id)
    children = connection.execute(sa.select(sa.func.count()).where(areas.c.parent_id == area_id)).scalar_one()
    latest = connection.execute(
        sa.select(population).where(population.c.area_id == area_id).order_by(population.c.period_start.desc()).limit(1)
    ).first()
    summary = None
    if latest is not None:
        summary = {"period_start": latest.period_start,
                   **shown_counts({name: getattr(latest, name) for name in POPULATION_COUNTS}, k=k),
                   **{name: getattr(latest, name) for name in POPULATION_SHARES}}
    return {"area_id": row.area_id, "name": row.name, "level": row.level, "parent_id": row.parent_id,
            "ancestors": ancestors(connection, area_id=area_id), "children": children, "population": summary}


def _latest_versions(table: sa.Table, key: sa.Column, area_id: str) -> sa.Subquery:
    """Each record's latest version in the area: corrections replace what they correct."""
    latest = (sa.select(key.label("record_id"), sa.func.max(table.c.version).label("version"))
              .where(table.c.area_id == area_id).group_by(key).subquery())
    return (sa.select(table).join(latest, sa.and_(key == latest.c.record_id, table.c.version == latest.c.version))
            .subquery())


def observed_counts(
    connection: Connection, *, area_id: str, first: dt.date, last: dt.date, period: str, week_start: str,
) -> dict[dt.date, dict[str, int]]:
    """Records per period of the area: petitions, collective and cross-level ones, mediation cases, failures."""
    counts: dict[dt.date, dict[str, int]] = defaultdict(lambda: dict.fromkeys(OBSERVED, 0))
    end = last + dt.timedelta(days=31)  # the whole of the last period; trimmed below
    pet = _latest_versions(petitions, petitions.c.petition_id, area_id)
    rows = connection.execute(sa.select(pet.c.received_on, pet.c.people, pet.c.level_reached)
                              .where(pet.c.received_on >= first, pet.c.received_on < end)).all()
    med = _latest_versions(mediation_cases, mediation_cases.c.case_id, area_id)
    cases = connection.execute(sa.select(med.c.opened_on, med.c.outcome)
                               .where(med.c.opened_on >= first, med.c.opened_on < end)).all()
    for dates, kinds in ((rows, "petitions"), (cases, "mediation")):
        if not dates:
            continue
        starts = period_start(pd.DatetimeIndex([r[0] for r in dates]), period, week_start).date
        for start, record in zip(starts, dates, strict=True):
            if start > last:
                continue
            bucket = counts[start]
            if kinds == "petitions":
                bucket["petitions"] += 1
                bucket["collective_petitions"] += int((record.people or 0) >= COLLECTIVE_MIN_PEOPLE)
                bucket["cross_level_petitions"] += int(record.level_reached in CROSS_LEVELS)
            else:
                bucket["mediation_cases"] += 1
                bucket["failed_mediations"] += int(record.outcome == "failed")
    return counts


OBSERVED = ("petitions", "collective_petitions", "cross_level_petitions", "mediation_cases", "failed_mediations")


def area_history(
    connection: Connection, *, region_id: str, area_id: str, first: dt.date, last: dt.date,
    serving_version: str | None, period: str, week_start: str, k: int,
) -> dict:
    """Per period: the score (the serving model's where it scored, else the latest), observed counts, actions."""
    row = require_area(connection, region_id=region_id, area_id=area_id)
    score_rows = connection.execute(
        sa.select(scores.c.period_start, scores.c.model_version, scores.c.probability, scores.c.level, scores.c.scored_at)
        .where(scores.c.area_id == area_id, scores.c.period_start >= first, scores.c.period_start <= last)
        .order_by(scores.c.period_start, scores.c.scored_at)
    ).all()
    chosen: dict[dt.date, sa.Row] = {}
    for score in score_rows:  # later rows win, the serving model's rows win over all
        current = chosen.get(score.period_start)
        if current is None or current.model_version != serving_version or score.model_version == serving_version:
            chosen[score.period_start] = score
    actions: dict[dt.date, list[dict]] = defaultdict(list)
    for action in connection.execute(
        sa.select(flag_actions).where(flag_actions.c.area_id == area_id, flag_actions.c.period_start >= first,
                                      flag_actions.c.period_start <= last).order_by(flag_actions.c.action_id)
    ):
        actions[action.period_start].append(public_action(action))
    observed = observed_counts(connection, area_id=area_id, first=first, last=last, period=period, week_start=week_start)
    periods = sorted(set(chosen) | set(actions) | set(observed))
    items = []
    for start in periods:
        score = chosen.get(start)
        items.append({
            "period_start": start,
            "probability": None if score is None else score.probability,
            "level": None if score is None else score.level,
            "flagged": score is not None and score.level == "high",
            "model_version": None if score is None else score.model_version,
            "observed": shown_counts(observed.get(start, dict.fromkeys(OBSERVED, 0)), k=k),
            "actions": actions.get(start, []),
        })
    return {"area_id": row.area_id, "name": row.name, "from_period": first, "to_period": last, "items": items}


def public_action(row: sa.Row) -> dict:
    return {name: getattr(row, name) for name in (
        "action_id", "area_id", "period_start", "kind", "action", "outcome", "follows", "note", "model_version",
        "recorded_by", "recorded_at")}


