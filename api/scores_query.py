"""Reading stored scores, always within a user's region."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from api.regions import subtree
from features.storage.tables import areas, scores


class NotFound(LookupError):
    """Nothing to show: the message says what is missing and what exists."""


def scored_period(connection: Connection, *, model_version: str, period: dt.date | None) -> dt.date:
    """The period asked for, or the latest scored one; 404-worthy if absent."""
    available = sa.select(scores.c.period_start).where(scores.c.model_version == model_version)
    if period is None:
        latest = connection.execute(sa.select(sa.func.max(available.subquery().c.period_start))).scalar()
        if latest is None:
            raise NotFound(f"model {model_version} has not scored any period yet; run `concord score`")
        return latest
    if connection.execute(available.where(scores.c.period_start == period).limit(1)).first() is None:
        latest = connection.execute(sa.select(sa.func.max(available.subquery().c.period_start))).scalar()
        raise NotFound(f"no scores for period {period.isoformat()}; the latest scored period is {latest}")
    return period


def _score_rows(model_version: str, period: dt.date) -> sa.Select:
    return (
        sa.select(scores.c.area_id, areas.c.name, scores.c.period_start, scores.c.probability, scores.c.level,
                  scores.c.reasons, scores.c.expected, scores.c.model_version)
        .join(areas, areas.c.area_id == scores.c.area_id)
        .where(scores.c.model_version == model_version, scores.c.period_start == period)
    )


def hotspots(
    connection: Connection, *, region_id: str, model_version: str, period: dt.date, limit: int
) -> tuple[int, list[dict]]:
    """The ``limit`` highest-probability areas of the region, and how many were scored."""
    tree = subtree(region_id)
    query = _score_rows(model_version, period).join(tree, tree.c.area_id == scores.c.area_id)
    total = connection.execute(sa.select(sa.func.count()).select_from(query.subquery())).scalar_one()
    rows = connection.execute(query.order_by(scores.c.probability.desc(), scores.c.area_id).limit(limit))
    return total, [public_row(row, rank=rank) for rank, row in enumerate(rows, start=1)]


def area_score(connection: Connection, *, region_id: str, area_id: str, model_version: str, period: dt.date) -> dict:
    tree = subtree(region_id)
    row = connection.execute(
        _score_rows(model_version, period).join(tree, tree.c.area_id == scores.c.area_id).where(scores.c.area_id == area_id)
    ).first()
    if row is None:
        # Same answer whether the area does not exist or lies outside the region,
        # so a region's boundaries do not leak.
        raise NotFound(f"no area {area_id!r} with a score for {period.isoformat()} in your region")
    return public_row(row)


def public_row(row: sa.Row, **extra: object) -> dict:
    """A stored score as the API shows it (``expected`` is stored, ``expected_counts`` shown)."""
    data = dict(row._mapping, **extra)
    data["expected_counts"] = data.pop("expected", None) or {}
    return data
