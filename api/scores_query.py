"""Reading stored scores, always within a user's region."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from api.focus import mediation_focus
from features.storage.tables import areas, scores


class NotFound(LookupError):
    """Nothing to show: the message says what is missing and what exists."""


def latest_period(model_version: str) -> sa.ScalarSelect:
    """The latest period ``model_version`` has scored, as a subquery."""
    return sa.select(sa.func.max(scores.c.period_start)).where(scores.c.model_version == model_version).scalar_subquery()


def latest_scored_period(connection: Connection, *, model_version: str) -> dt.date | None:
    return connection.execute(sa.select(latest_period(model_version))).scalar()


def _score_rows(model_version: str, period: dt.date) -> sa.Select:
    return (
        sa.select(scores.c.area_id, areas.c.name, scores.c.period_start, scores.c.probability, scores.c.level,
                  scores.c.reasons, scores.c.expected, scores.c.model_version)
        .join(areas, areas.c.area_id == scores.c.area_id)
        .where(scores.c.model_version == model_version, scores.c.period_start == period)
    )


def score_rows(connection: Connection, *, model_version: str, period: dt.date, area_ids: list[str]) -> dict[str, dict]:
    """The public rows (with mediation focus) of ``area_ids``, by area."""
    out = {}
    for row in connection.execute(_score_rows(model_version, period).where(scores.c.area_id.in_(area_ids))):
        item = public_row(row)
        item["focus"] = mediation_focus(item["reasons"], item["expected_counts"])
        out[row.area_id] = item
    return out


def public_row(row: sa.Row, **extra: object) -> dict:
    """A stored score as the API shows it (``expected`` is stored, ``expected_counts`` shown)."""
    data = dict(row._mapping, **extra)
    data["expected_counts"] = data.pop("expected", None) or {}
    return data
