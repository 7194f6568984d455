"""The application's own PostgreSQL role: everything it needs, and no way to rewrite the audit log.

The triggers of migration 0001 already refuse UPDATE and DELETE on
``audit_log`` for every role; revoking the privileges as well means a
compromised application connection cannot even disable the triggers' target
by truncation or ownership tricks (defence in depth, DESIGN.md principle 4).
The role owns nothing, so it cannot ALTER or DROP the tables either.
"""

from __future__ import annotations

import re

import sqlalchemy as sa
from sqlalchemy.engine import Engine

ROLE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


class RoleError(ValueError):
    """The role cannot be set up as asked."""


def grant_app_role(engine: Engine, *, role: str, login: bool = True) -> str:
    """Create ``role`` if missing and grant it the application's privileges on the current schema."""
    if engine.dialect.name != "postgresql":
        raise RoleError(f"{engine.dialect.name} has no roles; there the triggers alone keep audit_log append-only")
    if not ROLE_NAME.match(role):
        raise RoleError(f"role name {role!r} must be lower-case letters, digits and _ (at most 63)")
    with engine.begin() as connection:
        schema = connection.execute(sa.text("SELECT current_schema()")).scalar_one()
        exists = connection.execute(sa.text("SELECT 1 FROM pg_roles WHERE rolname = :role"), {"role": role}).first()
        if exists is None:
            connection.execute(sa.text(f'CREATE ROLE "{role}" {"LOGIN" if login else "NOLOGIN"}'))
        for statement in (
            f'GRANT USAGE ON SCHEMA "{schema}" TO "{role}"',
            f'GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA "{schema}" TO "{role}"',
            f'GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA "{schema}" TO "{role}"',
            f'REVOKE UPDATE, DELETE, TRUNCATE ON "{schema}".audit_log FROM "{role}"',
            f'REVOKE INSERT, UPDATE, DELETE ON "{schema}".alembic_version FROM "{role}"',
        ):
            connection.execute(sa.text(statement))
    return schema
