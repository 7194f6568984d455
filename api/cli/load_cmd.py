"""``concord load KIND PATH``: load one file of records, all of it or none of it."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from sqlalchemy.exc import SQLAlchemyError

from api.cli.common import console, current_user, err_console, fail, load_settings, open_database
from features.contracts import KINDS
from features.ingest import BatchRejected, load_file, read_mapping


class LoadKind(str, Enum):
    """The record kinds of DESIGN.md's contracts (kept equal to ``features.contracts.KINDS``)."""

    areas = "areas"
    adjacency = "adjacency"
    petitions = "petitions"
    mediation = "mediation"
    population = "population"
    policies = "policies"


assert tuple(kind.value for kind in LoadKind) == KINDS, "LoadKind must list the contracts' kinds"


def load(
    kind: Annotated[LoadKind, typer.Argument(help="What the file holds; load areas before the rest.")],
    path: Annotated[Path, typer.Argument(help="A CSV or Parquet file.", exists=True, dir_okay=False)],
    mapping: Annotated[
        Path | None,
        typer.Option(help="YAML or JSON file mapping source column names to canonical ones.",
                     exists=True, dir_okay=False),
    ] = None,
    encoding: Annotated[
        str | None, typer.Option(help="Text encoding of a CSV (default: try UTF-8, then GB18030).")
    ] = None,
) -> None:
    """Validate a whole file and store it in one transaction, or refuse it naming every bad cell."""
    settings = load_settings()
    try:
        renames = read_mapping(mapping) if mapping is not None else None
    except (OSError, ValueError) as exc:
        raise fail(escape(f"cannot use mapping file {mapping}: {exc}")) from exc
    engine = open_database(settings)
    try:
        report = load_file(
            engine, kind.value, path, hash_key=settings.hash_key.get_secret_value().encode("utf-8"),
            loaded_by=current_user(), mapping=renames, encoding=encoding,
        )
    except BatchRejected as exc:
        print_rejection(exc)
        raise typer.Exit(1) from exc
    except SQLAlchemyError as exc:
        raise fail(escape(f"database error, nothing was written: {exc}")) from exc
    finally:
        engine.dispose()
    console.print(report.summary(), soft_wrap=True, markup=False, highlight=False)


def print_rejection(exc: BatchRejected) -> None:
    """Every error on a line of its own: the row (header = row 1), column, reason and value."""
    err_console.print(
        f"[bold red]rejected:[/] {exc.kind} from {escape(exc.source)}: {len(exc.errors)} error(s); nothing was written. "
        "Rows are spreadsheet rows: the header is row 1, the first record row 2.",
        soft_wrap=True,
    )
    for error in exc.errors:
        err_console.print(f"  {error}", soft_wrap=True, markup=False, highlight=False)


def register(app: typer.Typer) -> None:
    app.command("load")(load)
