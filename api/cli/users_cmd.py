"""``concord users``: create and revoke API users."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from api.cli.common import console, current_user, fail, load_settings, open_database
from api import audit
from api.security import ROLES, UserError, add_user, list_users, revoke_user

users_app = typer.Typer(help="API users: each has a role and a region; tokens are shown once.", no_args_is_help=True)


@users_app.command("add")
def users_add(
    name: Annotated[str, typer.Argument(help="a unique user name")],
    role: Annotated[str, typer.Option(help=f"one of: {', '.join(ROLES)}")],
    region: Annotated[str, typer.Option(help="the area_id whose subtree the user may see")],
) -> None:
    """Create a user and print their bearer token once."""
    engine = open_database(load_settings())
    try:
        token = add_user(engine, name=name, role=role, region_id=region)
    except UserError as exc:
        raise fail(str(exc)) from exc
    audit.record(engine, actor=current_user(), role="admin", action="add_user", resource=f"users/{name}",
                 area_ids=[region], outcome="ok", detail=f"role={role}")
    console.print(f"user {name} ({role}, region {region}) created; token (shown once):")
    console.print(token, soft_wrap=True, highlight=False)


@users_app.command("revoke")
def users_revoke(name: Annotated[str, typer.Argument(help="the user to revoke")]) -> None:
    """Revoke a user's token at once."""
    engine = open_database(load_settings())
    try:
        revoke_user(engine, name=name)
    except UserError as exc:
        raise fail(str(exc)) from exc
    audit.record(engine, actor=current_user(), role="admin", action="revoke_user", resource=f"users/{name}", outcome="ok")
    console.print(f"user {name} revoked")


@users_app.command("list")
def users_list() -> None:
    """List users (never their tokens)."""
    table = Table("name", "role", "region", "created", "revoked")
    for user in list_users(open_database(load_settings())):
        table.add_row(user["name"], user["role"], user["region_id"], str(user["created_at"])[:19], str(user["revoked_at"] or "")[:19])
    console.print(table)


def register(app: typer.Typer) -> None:
    app.add_typer(users_app, name="users")
