"""``concord db``: schema migrations."""

from __future__ import annotations

import typer

from api.cli.common import console, load_settings
from features.storage import make_engine, upgrade
from features.storage.migrate import current_revision

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


def register(app: typer.Typer) -> None:
    app.add_typer(db_app, name="db")
