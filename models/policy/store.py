"""Stored reviews: every version kept, none overwritten (the decision file must show what was assessed).

A review is a ``review_id`` with versions 1, 2, ...; filing creates version
1 and each edit appends the next. The primary key (review_id, version)
makes two concurrent edits collide instead of one silently replacing the
other: the loser gets ``VersionConflict`` and may retry.
"""

from __future__ import annotations

import datetime as dt
import math
import uuid
from dataclasses import dataclass
from typing import Any

import numpy as np
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from features.storage.tables import policy_reviews


class VersionConflict(RuntimeError):
    """Another edit stored the same version first."""


@dataclass(frozen=True)
class StoredReview:
    review_id: str
    version: int
    title: str
    policy_type: str
    region_id: str
    area_ids: list[str]
    level_before: str
    level_after: str
    proposal: dict[str, Any]
    result: dict[str, Any]
    created_by: str
    created_at: dt.datetime


def finite(value: Any) -> Any:
    """JSON-safe copy: NaN and infinities become None (PostgreSQL's JSON refuses them), dates ISO text."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite(v) for v in value]
    return value


def new_review_id() -> str:
    return uuid.uuid4().hex[:16]


def _row(row: sa.Row) -> StoredReview:
    created = row.created_at if row.created_at.tzinfo else row.created_at.replace(tzinfo=dt.UTC)
    return StoredReview(
        review_id=row.review_id, version=row.version, title=row.title, policy_type=row.policy_type,
        region_id=row.region_id, area_ids=row.area_ids.split(";") if row.area_ids else [],
        level_before=row.level_before, level_after=row.level_after, proposal=dict(row.proposal),
        result=dict(row.result), created_by=row.created_by, created_at=created,
    )


def save_version(engine: Engine, *, review_id: str, proposal: dict[str, Any], result: dict[str, Any], title: str,
                 policy_type: str, region_id: str, area_ids: list[str], created_by: str) -> StoredReview:
    """Append the next version of ``review_id`` (1 for a new review)."""
    now = dt.datetime.now(dt.UTC)
    try:
        with engine.begin() as connection:
            latest = connection.execute(sa.select(sa.func.max(policy_reviews.c.version)).where(
                policy_reviews.c.review_id == review_id)).scalar()
            version = (latest or 0) + 1
            connection.execute(policy_reviews.insert().values(
                review_id=review_id, version=version, title=title, policy_type=policy_type, region_id=region_id,
                area_ids=";".join(area_ids), level_before=result["level_before"], level_after=result["level_after"],
                proposal=finite(proposal), result=finite(result), created_by=created_by, created_at=now,
            ))
    except sa.exc.IntegrityError as exc:
        raise VersionConflict(f"review {review_id} was edited at the same time; try again") from exc
    return get_review(engine, review_id, version)  # type: ignore[return-value]


def get_review(engine: Engine, review_id: str, version: int | None = None) -> StoredReview | None:
    """A version of a review (default: the latest), or None."""
    query = sa.select(policy_reviews).where(policy_reviews.c.review_id == review_id)
    query = query.where(policy_reviews.c.version == version) if version is not None else query.order_by(
        policy_reviews.c.version.desc()).limit(1)
    with engine.connect() as connection:
        row = connection.execute(query).first()
    return None if row is None else _row(row)


def list_versions(engine: Engine, review_id: str) -> list[StoredReview]:
    with engine.connect() as connection:
        rows = connection.execute(sa.select(policy_reviews).where(policy_reviews.c.review_id == review_id)
                                  .order_by(policy_reviews.c.version))
        return [_row(row) for row in rows]


def list_latest(engine: Engine) -> list[StoredReview]:
    """The latest version of every review, newest first."""
    latest = sa.select(policy_reviews.c.review_id, sa.func.max(policy_reviews.c.version).label("version")).group_by(
        policy_reviews.c.review_id).subquery()
    query = sa.select(policy_reviews).join(latest, sa.and_(policy_reviews.c.review_id == latest.c.review_id,
                                                           policy_reviews.c.version == latest.c.version))
    with engine.connect() as connection:
        rows = connection.execute(query.order_by(policy_reviews.c.created_at.desc()))
        return [_row(row) for row in rows]
