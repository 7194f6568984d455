"""Load every record file of a folder, in the order the contracts depend on.

Areas come first (every other kind refers to them); corrections come after
the records they correct. Files are found by name: ``areas.csv``,
``petitions.parquet``, ``petitions_corrections.csv`` and so on — the names
the simulator writes and a data office can copy.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from sqlalchemy.engine import Engine

from features.ingest import LoadReport, load_file

#: (file stem, kind) in loading order.
LOAD_ORDER: tuple[tuple[str, str], ...] = (
    ("areas", "areas"),
    ("adjacency", "adjacency"),
    ("population", "population"),
    ("policies", "policies"),
    ("petitions", "petitions"),
    ("mediation", "mediation"),
    ("petitions_corrections", "petitions"),
    ("mediation_corrections", "mediation"),
)
SUFFIXES = (".parquet", ".csv")


def record_files(folder: Path) -> list[tuple[str, Path]]:
    """The (kind, path) pairs present in ``folder``, in loading order."""
    found = []
    for stem, kind in LOAD_ORDER:
        for suffix in SUFFIXES:
            path = folder / f"{stem}{suffix}"
            if path.is_file():
                found.append((kind, path))
                break
    if not found or found[0][0] != "areas":
        raise FileNotFoundError(f"{folder} holds no areas.csv or areas.parquet; areas must be loaded first")
    return found


def load_directory(
    engine: Engine, folder: Path, *, hash_key: bytes, loaded_by: str,
    on_loaded: Callable[[LoadReport], None] = lambda report: None,
) -> list[LoadReport]:
    """Load each file in its own all-or-nothing batch; stop at the first rejection."""
    reports = []
    for kind, path in record_files(folder):
        report = load_file(engine, kind, path, hash_key=hash_key, loaded_by=loaded_by)
        on_loaded(report)
        reports.append(report)
    return reports
