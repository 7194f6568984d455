"""``concord models``: list, show, promote and roll back registered versions."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.table import Column, Table

from api import audit
from api.cli.common import console, current_user, fail, load_settings, open_database
from models import registry
from models.evaluate import recorded_gates
from models.jobs import model_card_html, promote_checked

models_app = typer.Typer(help="The model registry: exactly one version serves at a time.", no_args_is_help=True)


@models_app.command("list")
def models_list() -> None:
    """Every registered version, newest first, with its holdout figures and promotion gates."""
    table = Table("created", "serving", "training window", "holdout AP", "baseline AP", "gates")
    table.columns.insert(0, Column("version", no_wrap=True))
    for model in registry.list_versions(open_database(load_settings())):
        metrics = model.manifest.get("metrics", {})
        window = " → ".join(model.manifest.get("training_window", []))
        passed, _ = recorded_gates(model.manifest)
        gates = "passed" if passed else ("refused" if "backtest" in model.manifest else "none")
        table.add_row(
            model.version, f"{model.created_at:%Y-%m-%d %H:%M}", "yes" if model.serving else "", window,
            f"{metrics.get('model_average_precision', float('nan')):.3f}",
            f"{metrics.get('baseline_average_precision', float('nan')):.3f}", gates,
        )
    console.print(table)


@models_app.command("show")
def models_show(version: Annotated[str, typer.Argument(help="a version from `concord models list`")]) -> None:
    """Print a version's manifest as JSON."""
    try:
        model = registry.get_version(open_database(load_settings()), version)
    except registry.UnknownVersion as exc:
        raise fail(str(exc)) from exc
    console.print_json(json.dumps(model.manifest, default=str))


@models_app.command("promote")
def models_promote(version: Annotated[str, typer.Argument(help="the version to serve")]) -> None:
    """Serve ``version`` (atomically replacing the current one) if it passed the promotion gates."""
    settings = load_settings()
    engine = open_database(settings)
    try:
        model = promote_checked(engine, registry_dir=settings.registry_dir, version=version)
    except (registry.UnknownVersion, registry.ArtifactRejected) as exc:
        audit.record(engine, actor=current_user(), role="admin", action="promote_model", resource=f"models/{version}", outcome="refused", detail=str(exc))
        raise fail(str(exc)) from exc
    audit.record(engine, actor=current_user(), role="admin", action="promote_model", resource=f"models/{version}", outcome="ok")
    console.print(f"{model.version} now serving")


@models_app.command("rollback")
def models_rollback() -> None:
    """Serve again the version that served before the current one."""
    engine = open_database(load_settings())
    try:
        model = registry.rollback(engine)
    except registry.UnknownVersion as exc:
        raise fail(str(exc)) from exc
    audit.record(engine, actor=current_user(), role="admin", action="rollback_model", resource=f"models/{model.version}", outcome="ok")
    console.print(f"rolled back: {model.version} now serving")


@models_app.command("card")
def models_card(version: Annotated[str, typer.Argument(help="a version from `concord models list`")]) -> None:
    """Write the version's model card (HTML) under the data directory's reports folder."""
    settings = load_settings()
    try:
        model = registry.get_version(open_database(settings), version)
    except registry.UnknownVersion as exc:
        raise fail(str(exc)) from exc
    try:
        html = model_card_html(model)
    except ValueError as exc:
        raise fail(str(exc)) from exc
    reports = settings.data_dir / "reports"
    reports.mkdir(parents=True, exist_ok=True)
    path = reports / f"model-card-{version}.html"
    tmp = path.with_suffix(".html.tmp")
    tmp.write_text(html, encoding="utf-8")
    tmp.replace(path)
    console.print(f"model card: {path}")


def register(app: typer.Typer) -> None:
    app.add_typer(models_app, name="models")
