"""Users, roles and bearer tokens.

A token is shown once, when it is made; the database keeps only its
SHA-256 (tokens are 256 random bits, so a plain hash is enough and lets a
request be authenticated with one indexed lookup).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass
from typing import Literal

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from features.storage.tables import areas, users

Role = Literal["officer", "reviewer", "analyst", "admin"]
ROLES: tuple[Role, ...] = ("officer", "reviewer", "analyst", "admin")

Permission = Literal[
    "read_scores", "record_actions", "read_models", "promote_models", "upload_records",
    "run_jobs", "read_monitoring", "policy_reviews", "manage_users",
]

#: What each role may do (issue 6). Reviewers have the officer's rights plus
#: policy reviews; analysts read everything in their region and run the data
#: and model jobs but do not act on flags; admins may do everything.
PERMISSIONS: dict[Role, frozenset[Permission]] = {
    "officer": frozenset({"read_scores", "record_actions", "read_models"}),
    "reviewer": frozenset({"read_scores", "record_actions", "read_models", "policy_reviews"}),
    "analyst": frozenset({"read_scores", "read_models", "upload_records", "run_jobs", "read_monitoring"}),
    "admin": frozenset(Permission.__args__),
}


def may(role: str, permission: Permission) -> bool:
    return permission in PERMISSIONS.get(role, frozenset())  # type: ignore[arg-type]


@dataclass(frozen=True)
class User:
    name: str
    role: Role
    region_id: str


class UserError(ValueError):
    """A user cannot be created or changed as asked."""


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def add_user(engine: Engine, *, name: str, role: str, region_id: str) -> str:
    """Create a user and return their token (the only time it is visible)."""
    if role not in ROLES:
        raise UserError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
    token = secrets.token_urlsafe(32)
    with engine.begin() as connection:
        if connection.execute(sa.select(areas.c.area_id).where(areas.c.area_id == region_id)).first() is None:
            raise UserError(f"region {region_id!r} is not a known area_id")
        if connection.execute(sa.select(users.c.user_id).where(users.c.name == name)).first() is not None:
            raise UserError(f"a user named {name!r} exists already; revoke it first or choose another name")
        connection.execute(users.insert().values(
            name=name, role=role, region_id=region_id, token_hash=hash_token(token),
            created_at=dt.datetime.now(dt.UTC),
        ))
    return token


def revoke_user(engine: Engine, *, name: str) -> None:
    """Revoke a user's token; the row stays so the audit trail keeps its meaning."""
    with engine.begin() as connection:
        row = connection.execute(sa.select(users.c.user_id).where(users.c.name == name, users.c.revoked_at.is_(None))).first()
        if row is None:
            raise UserError(f"no active user named {name!r}")
        # Renaming frees the name for a new token while keeping the old row.
        stamp = dt.datetime.now(dt.UTC)
        connection.execute(users.update().where(users.c.user_id == row.user_id).values(
            revoked_at=stamp, name=f"{name}#revoked-{stamp:%Y%m%d%H%M%S%f}",
        ))


def authenticate(connection: Connection, token: str) -> User | None:
    row = connection.execute(
        sa.select(users.c.name, users.c.role, users.c.region_id)
        .where(users.c.token_hash == hash_token(token), users.c.revoked_at.is_(None))
    ).first()
    return None if row is None else User(name=row.name, role=row.role, region_id=row.region_id)


def list_users(engine: Engine) -> list[dict]:
    with engine.connect() as connection:
        rows = connection.execute(sa.select(users.c.name, users.c.role, users.c.region_id, users.c.created_at, users.c.revoked_at).order_by(users.c.user_id))
        return [dict(row._mapping) for row in rows]
