"""Recording what was done about a flag, and what came of it.

These rows are the evidence for the feedback-loop analysis of DESIGN.md
principle 5: an area that receives mediators records more cases, so every
flag's follow-up is kept, append-only, beside the score that raised it.
"""

from __future__ import annotations

import datetime as dt
import re

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from api.area_query import public_action, require_area
from api.scores_query import NotFound
from features.calendar import start_of_period
from features.storage.tables import flag_actions, scores

#: Person identifiers a free-text note must not carry (areas, never people):
#: mainland ID-card numbers (18 characters) and mobile numbers (11 digits).
PERSON_IDENTIFIERS = re.compile(r"(?<!\d)(\d{17}[\dXx]|1[3-9]\d{9})(?![\dXx])")


class InvalidAction(ValueError):
    """A request that names a field: ``field`` is the location, the message says what is wrong."""

    def __init__(self, field: tuple[str, ...], message: str) -> None:
        super().__init__(message)
        self.field = field


def check_note(note: str | None) -> None:
    if note is not None and PERSON_IDENTIFIERS.search(note):
        raise InvalidAction(("body", "note"), "looks like it holds an ID-card or phone number; notes describe areas, never people")


def check_period(period: dt.date, *, period_kind: str, week_start: str) -> None:
    """The date must start a period: a Monday (or Sunday) for weeks, the 1st for months."""
    start = start_of_period(period, period_kind, week_start)
    if start != period:
        raise InvalidAction(("path", "period"), f"is not the start of a {period_kind}; the period holding it starts {start}")


def record_action(
    connection: Connection, *, region_id: str, area_id: str, period: dt.date, body: dict, recorded_by: str,
) -> dict:
    """Append an action or an outcome for the area's flag of ``period``; NotFound outside the region."""
    require_area(connection, region_id=region_id, area_id=area_id)
    score = connection.execute(
        sa.select(scores.c.model_version).where(scores.c.area_id == area_id, scores.c.period_start == period)
        .order_by(scores.c.scored_at.desc()).limit(1)
    ).first()
    if score is None:
        raise NotFound(f"area {area_id!r} has no score for {period}; actions are recorded against a scored period")
    check_note(body.get("note"))
    if body["kind"] == "action" and body["action"] == "no_action" and not (body.get("note") or "").strip():
        raise InvalidAction(("body", "note"), "is required when the action is no_action: say why nothing was done")
    if body["kind"] == "outcome":
        followed = connection.execute(
            sa.select(flag_actions.c.kind).where(
                flag_actions.c.action_id == body["follows"], flag_actions.c.area_id == area_id,
                flag_actions.c.period_start == period)
        ).first()
        if followed is None or followed.kind != "action":
            raise InvalidAction(("body", "follows"), f"no action {body['follows']} recorded for {area_id} in {period}")
    values = {
        "area_id": area_id, "period_start": period, "kind": body["kind"], "action": body.get("action"),
        "outcome": body.get("outcome"), "follows": body.get("follows"), "note": body.get("note"),
        "model_version": score.model_version, "recorded_by": recorded_by, "recorded_at": dt.datetime.now(dt.UTC),
    }
    action_id = connection.execute(flag_actions.insert().values(**values)).inserted_primary_key[0]
    row = connection.execute(sa.select(flag_actions).where(flag_actions.c.action_id == action_id)).one()
    return public_action(row)
