"""``concord db``: schema migrations."""

from __future__ import annotations

from typing import Annotated

import typer

from api.cli.common import console, fail, load_settings
from features.storage import make_engine, upgrade
from features.storage.migrate import current_revision
from features.storage.roles import RoleError, grant_app_role

db_app = typer.Typer(help="Database schema: migrate and inspect.", no_args_is_help=True)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply every pending migration to the configured database."""
    settings = load_settings()
    engine = make_engine(settings.db_url)
    upgrade(engine)
    console.print(f"schema at revision {current_revision(engine)} ({engine.url.render_as_string()})")


@db_app.command("current")
def db_current() -> None:
    """Print the schema revision of the configured database."""
    settings = load_settings()
    console.print(current_revision(make_engine(settings.db_url)) or "empty database")


@db_app.command("app-role")
def db_app_role(
    name: Annotated[str, typer.Argument(help="the PostgreSQL role the service connects as")],
    login: Annotated[bool, typer.Option(help="create it as a login role (set its password yourself)")] = True,
) -> None:
    """Create (or update) the service's PostgreSQL role: no UPDATE, DELETE or TRUNCATE on audit_log.

    Run it as the schema owner after `concord db upgrade`, and again after
    each upgrade that adds tables; then point CONCORD_DATABASE_URL at that role.
    """
    settings = load_settings()
    engine = make_engine(settings.db_url)
    upgrade(engine)
    try:
        schema = grant_app_role(engine, role=name, login=login)
    except RoleError as exc:
        raise fail(str(exc), code=2) from exc
    console.print(f"role {name} may read and write {schema}; audit_log is insert-only for it")


def register(app: typer.Typer) -> None:
    app.add_typer(db_app, name="db")
