"""Bringing in what is new: files dropped in an inbox folder, and queries on a source database.

Inbox files are named like the simulator's and a data office's exports,
``<kind stem>[anything].csv|parquet`` (``petitions-2024w18.csv``,
``mediation_corrections.parquet``), and are loaded in the order the
contracts depend on. Each file is its own all-or-nothing batch; a loaded
file moves to ``processed/``, a rejected one to ``rejected/`` with the
errors beside it, and the run fails naming it. Loading is idempotent (the
same bytes add nothing), so a crash between loading a file and moving it
costs nothing on the next run. SQL sources are read whole each run for the
same reason: rows already stored come back "unchanged".
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from features.contracts import KINDS
from features.ingest import BatchRejected, LoadReport, load_file, load_frame
from features.load_directory import LOAD_ORDER, SUFFIXES


@dataclass(frozen=True)
class SqlSource:
    """A source database and one query per record kind (``{"petitions": "SELECT ..."}``)."""

    url: str
    queries: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        unknown = sorted(set(self.queries) - set(KINDS))
        if unknown:
            raise ValueError(f"source queries for unknown kinds {unknown}; kinds are {', '.join(KINDS)}")


def inbox_files(inbox: Path) -> list[tuple[str, Path]]:
    """(kind, path) of the files waiting in ``inbox``, in loading order (corrections after records)."""
    if not inbox.is_dir():
        return []
    files = [p for p in inbox.iterdir() if p.is_file() and p.suffix in SUFFIXES and not p.name.startswith(".")]
    found = []
    # Longest stems first so that "petitions_corrections…" is not taken for "petitions…".
    stems = sorted(((i, stem, kind) for i, (stem, kind) in enumerate(LOAD_ORDER)), key=lambda t: -len(t[1]))
    for path in files:
        for order, stem, kind in stems:
            if path.stem.startswith(stem):
                found.append((order, path.name, kind, path))
                break
    return [(kind, path) for _, _, kind, path in sorted(found)]


def _move(path: Path, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / path.name
    if target.exists():
        target = folder / f"{path.stem}-{path.stat().st_mtime_ns}{path.suffix}"
    shutil.move(str(path), target)
    return target


def load_inbox(engine: Engine, inbox: Path, *, hash_key: bytes, loaded_by: str,
               progress: Callable[[str], None] = lambda m: None) -> list[LoadReport]:
    """Load every waiting file; on the first rejection move it aside and raise ``BatchRejected``."""
    reports = []
    for kind, path in inbox_files(inbox):
        try:
            report = load_file(engine, kind, path, hash_key=hash_key, loaded_by=loaded_by)
        except BatchRejected as exc:
            moved = _move(path, inbox / "rejected")
            moved.with_name(moved.name + ".errors.txt").write_text(str(exc), encoding="utf-8")
            raise
        _move(path, inbox / "processed")
        progress(report.summary())
        reports.append(report)
    return reports


def load_sql(engine: Engine, source: SqlSource, *, hash_key: bytes, loaded_by: str,
             progress: Callable[[str], None] = lambda m: None) -> list[LoadReport]:
    """Run each configured query on the source database and load its rows like a file."""
    reports = []
    remote = sa.create_engine(source.url)
    try:
        order = [kind for _, kind in LOAD_ORDER if kind in source.queries]
        for kind in dict.fromkeys(order):
            with remote.connect() as connection:
                frame = pd.read_sql_query(sa.text(source.queries[kind]), connection)
            report = load_frame(engine, kind, frame, source=f"sql:{kind}", hash_key=hash_key, loaded_by=loaded_by)
            progress(report.summary())
            reports.append(report)
    finally:
        remote.dispose()
    return reports
