"""Reading stored scores, always within a user's region."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from api.focus import mediation_focus
from api.regions import LineageCache, subtree
from features.storage.tables import areas, scores


class NotFound(LookupError):
    """Nothing to show: the message says what is missing and what exists."""


def latest_scored_period(connection: Connection, *, model_version: str) -> dt.date | None:
    return connection.execute(
        sa.select(sa.func.max(scores.c.period_start)).where(scores.c.model_version == model_version)).scalar()


def scored_period(connection: Connection, *, model_version: str, period: dt.date | None) -> dt.date:
    """The period asked for, or the latest scored one; 404-worthy if absent."""
    if period is None:
        latest = latest_scored_period(connection, model_version=model_version)
        if latest is None:
            raise NotFound(f"model {model_version} has not scored any period yet; run `concord score`")
        return latest
    found = connection.execute(sa.select(scores.c.period_start).where(
        scores.c.model_version == model_version, scores.c.period_start == period).limit(1)).first()
    if found is None:
        latest = latest_scored_period(connection, model_version=model_version)
        raise NotFound(f"no scores for period {period.isoformat()}; the latest scored period is {latest}")
    return period


def _score_rows(model_version: str, period: dt.date) -> sa.Select:
    return (
        sa.select(scores.c.area_id, areas.c.name, scores.c.period_start, scores.c.probability, scores.c.level,
                  scores.c.reasons, scores.c.expected, scores.c.model_version)
        .join(areas, areas.c.area_id == scores.c.area_id)
        .where(scores.c.model_version == model_version, scores.c.period_start == period)
    )


def ranked_page(
    connection: Connection, *, lineages: LineageCache, region_id: str, model_version: str, period: dt.date, limit: int,
    offset: int = 0, level: str | None = None,
) -> tuple[int, list[tuple[str, object]]]:
    """How many areas the region has scored, and one page of (area_id, scored_at) by falling probability.

    Reads only narrow columns; the count rides on the page query as a
    window, and a region that is the root of the hierarchy needs no subtree.
    """
    ranked = sa.select(scores.c.area_id, scores.c.scored_at, sa.func.count().over().label("total")).where(
        scores.c.model_version == model_version, scores.c.period_start == period)
    if level is not None:
        ranked = ranked.where(scores.c.level == level)
    if not lineages.is_root(connection, area_id=region_id):
        tree = subtree(region_id)
        ranked = ranked.join(tree, tree.c.area_id == scores.c.area_id)
    rows = connection.execute(ranked.order_by(scores.c.probability.desc(), scores.c.area_id).limit(limit).offset(offset)).all()
    if rows:
        return rows[0].total, [(row.area_id, row.scored_at) for row in rows]
    counted = ranked.with_only_columns(scores.c.area_id)
    total = connection.execute(sa.select(sa.func.count()).select_from(counted.subquery())).scalar_one()
    return total, []


def score_rows(connection: Connection, *, model_version: str, period: dt.date, area_ids: list[str]) -> dict[str, dict]:
    """The public rows (with mediation focus) of ``area_ids``, by area."""
    out = {}
    for row in connection.execute(_score_rows(model_version, period).where(scores.c.area_id.in_(area_ids))):
        item = public_row(row)
        item["focus"] = mediation_focus(item["reasons"], item["expected_counts"])
        out[row.area_id] = item
    return out


def area_stamp(
    connection: Connection, *, lineages: LineageCache, region_id: str, area_id: str, model_version: str, period: dt.date,
) -> object:
    """The area's ``scored_at`` for the period, if it is in the region and scored; else NotFound."""
    stamp = None
    if lineages.within(connection, region_id=region_id, area_id=area_id):
        stamp = connection.execute(sa.select(scores.c.scored_at).where(
            scores.c.area_id == area_id, scores.c.model_version == model_version, scores.c.period_start == period)).scalar()
    if stamp is None:
        # Same answer whether the area does not exist or lies outside the region,
        # so a region's boundaries do not leak.
        raise NotFound(f"no area {area_id!r} with a score for {period.isoformat()} in your region")
    return stamp


def public_row(row: sa.Row, **extra: object) -> dict:
    """A stored score as the API shows it (``expected`` is stored, ``expected_counts`` shown)."""
    data = dict(row._mapping, **extra)
    data["expected_counts"] = data.pop("expected", None) or {}
    return data
