"""What every command shares: settings, the engine, a console, failing cleanly."""

from __future__ import annotations

import getpass

import typer
from pydantic import ValidationError
from rich.console import Console
from sqlalchemy.engine import Engine

from api.settings import Settings
from features.storage import make_engine, upgrade

console = Console(stderr=False)
err_console = Console(stderr=True)


def load_settings() -> Settings:
    """Read settings or exit 2 with every invalid field named."""
    try:
        return Settings()
    except ValidationError as exc:
        err_console.print("[bold red]Invalid settings:[/]")
        for error in exc.errors():
            field = ".".join(str(part) for part in error["loc"]) or "settings"
            err_console.print(f"  {field}: {error['msg']}")
        raise typer.Exit(2) from exc


def open_database(settings: Settings) -> Engine:
    """Engine for the configured database, migrated to the latest schema."""
    engine = make_engine(settings.db_url)
    upgrade(engine)
    return engine


def current_user() -> str:
    """Who runs a command, for load batches and the audit log."""
    try:
        return f"cli:{getpass.getuser()}"
    except Exception:  # noqa: BLE001 - no passwd entry in some containers
        return "cli:unknown"


def fail(message: str, code: int = 1) -> typer.Exit:
    err_console.print(f"[bold red]error:[/] {message}")
    return typer.Exit(code)
