"""``concord features``: build the area × period panel, list the feature catalogue."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

import typer
from rich.table import Table

from api.cli.common import console, fail, load_settings, open_database
from api.cli.specs import panel_spec
from api.settings import Settings
from features.catalogue import catalogue
from features.pipeline import PanelSpec, build_features

features_app = typer.Typer(help="Feature panels: build them from the records, list the catalogue.", no_args_is_help=True)


def _spec(period: str | None) -> tuple[PanelSpec, Settings]:
    settings = load_settings()
    return panel_spec(settings, period=period), settings


@features_app.command("build")
def build(
    period: Annotated[str | None, typer.Option(help="week or month; default: the settings' period")] = None,
    since: Annotated[dt.datetime | None, typer.Option(formats=["%Y-%m-%d"], help="recompute every period from the one holding this date")] = None,
    full: Annotated[bool, typer.Option("--full", help="recompute every period and the labels (records from the record cache)")] = False,
) -> None:
    """Build or update the stored panel: only the periods new records can change are recomputed."""
    if period not in (None, "week", "month"):
        raise fail(f"--period must be week or month, not {period!r}", code=2)
    if full and since is not None:
        raise fail("--full recomputes every period: leave out --since", code=2)
    try:
        spec, settings = _spec(period)
    except ValueError as exc:
        raise fail(f"invalid label settings: {exc}", code=2) from exc
    engine = open_database(settings)
    try:
        result = build_features(engine, spec=spec, data_dir=settings.data_dir, since=since.date() if since else None,
                                full=full, progress=True, malloc_arenas=settings.build_malloc_arenas)
    except LookupError as exc:
        raise fail(str(exc)) from exc
    if result.full:
        how = f"full build ({result.reason})"
    elif result.reason == "up to date":
        how = "already up to date"
    else:
        how = f"incremental ({result.recomputed_periods} periods recomputed)"
    console.print(
        f"build {result.build_id}: {result.areas} areas × {result.periods} {spec.period}s "
        f"({result.first_period}..{result.last_period}), {result.features} features, {how}, "
        f"as of {result.as_of}, {result.seconds:.1f} s → {result.path}"
    )


@features_app.command("list")
def list_features(
    period: Annotated[Literal["week", "month"], typer.Option(help="which catalogue: week or month windows")] = "week",
    family: Annotated[str | None, typer.Option(help="only this family")] = None,
) -> None:
    """Print the feature catalogue: name, family, window, definition, fields read."""
    table = Table(title=f"Concord feature catalogue ({period})", show_lines=False)
    specs = [s for s in catalogue(period) if family is None or s.family == family]
    # Names are what people copy: never fold or cut them, whatever the terminal's width.
    table.add_column("name", no_wrap=True, min_width=max((len(s.name) for s in specs), default=4))
    for column in ("family", "window", "definition", "reads"):
        table.add_column(column, overflow="fold")
    for spec in specs:
        window = "" if spec.window is None else f"{spec.window} {period}{'s' if spec.window > 1 else ''}"
        table.add_row(spec.name, spec.family, window, spec.definition + (f" ({spec.missing}.)" if spec.missing else ""),
                      ", ".join(spec.reads) or "(calendar)")
    console.print(table)
    console.print(f"{len(specs)} features")


def register(app: typer.Typer) -> None:
    app.add_typer(features_app, name="features")
