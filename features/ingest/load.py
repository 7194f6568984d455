"""Loading a batch: read, drop person fields, validate, plan, write — or refuse it whole.

Everything from the "already loaded?" check to the last insert happens in
one transaction, so the stored areas and versions that validation and
planning saw are the ones the write builds on, and a failure anywhere
leaves the database as it was.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Set
from pathlib import Path

import pandas as pd
from sqlalchemy.engine import Engine

from features.contracts import CONTRACTS, KINDS, PETITIONER_KEY_COLUMN
from features.ingest.errors import BatchRejected, LoadReport, RowError
from features.ingest.hashing import content_hashes
from features.ingest.lookup import prior_batch, stored_area_ids, stored_records
from features.ingest.plan import plan_changes
from features.ingest.privacy import derive_repeat, drop_person_columns
from features.ingest.read import TEXT, UnreadableSource, canonical_columns, read_json_lines, read_source, sha256_bytes
from features.ingest.validate import validate
from features.ingest.write import insert_batch_row, write_records
from features.storage.tables import RECORD_TABLES


def load_file(
    engine: Engine, kind: str, path: Path, *, hash_key: bytes, loaded_by: str,
    mapping: Mapping[str, str] | None = None, encoding: str | None = None, source: str | None = None,
    area_scope: Set[str] | None = None,
) -> LoadReport:
    """Load a CSV or Parquet file of ``kind``; raise ``BatchRejected`` with every error, writing nothing.

    ``source`` names the batch in ``load_batches`` and messages (default: the path).
    ``area_scope``, when given, is the set of area ids the loader may write
    about (a user's region): any other id is refused as unknown, so a region's
    boundaries do not leak.
    """
    _check_kind(kind)
    source = source or str(path)
    raw, sha256 = _read(kind, source, lambda: read_source(Path(path), encoding=encoding))
    return _load(engine, kind=kind, raw=raw, source=source, sha256=sha256, mapping=mapping,
                 hash_key=hash_key, loaded_by=loaded_by, area_scope=area_scope)


def load_json_lines(
    engine: Engine, kind: str, path: Path, *, hash_key: bytes, loaded_by: str, source: str | None = None,
    area_scope: Set[str] | None = None,
) -> LoadReport:
    """Load a JSON-lines file of ``kind`` like a CSV: the same checks, all or nothing.

    Error rows follow the CSV convention (first record = row 2): the line is ``row - 1``.
    """
    _check_kind(kind)
    source = source or str(path)
    raw, sha256 = _read(kind, source, lambda: _with_frame_hash(read_json_lines(path)))
    return _load(engine, kind=kind, raw=raw, source=source, sha256=sha256, mapping=None,
                 hash_key=hash_key, loaded_by=loaded_by, area_scope=area_scope)


def load_frame(
    engine: Engine, kind: str, frame: pd.DataFrame, *, source: str, hash_key: bytes, loaded_by: str
) -> LoadReport:
    """Load an in-memory frame (e.g. rows read from an existing SQL table) like a file."""
    _check_kind(kind)
    return _load(engine, kind=kind, raw=frame, source=source, sha256=frame_sha256(frame), mapping=None,
                 hash_key=hash_key, loaded_by=loaded_by)


def frame_sha256(frame: pd.DataFrame) -> str:
    """A fingerprint of a frame's headers and cells, standing in for a file's sha256."""
    cells = pd.util.hash_pandas_object(frame.astype(TEXT), index=False).to_numpy().tobytes()
    header = "\x1d".join(map(str, frame.columns)).encode("utf-8")
    return sha256_bytes(header + b"\x1c" + cells)


def _read(kind: str, source: str, reader: Callable[[], tuple[pd.DataFrame, str]]) -> tuple[pd.DataFrame, str]:
    """Run ``reader``; an unreadable or missing file becomes a rejected batch that names it."""
    try:
        return reader()
    except UnreadableSource as exc:
        raise BatchRejected(kind=kind, source=source, errors=[exc.error]) from exc
    except OSError as exc:
        raise BatchRejected(kind=kind, source=source, errors=[RowError(None, None, f"cannot read file: {exc}")]) from exc


def _with_frame_hash(frame: pd.DataFrame) -> tuple[pd.DataFrame, str]:
    return frame, frame_sha256(frame)


def _check_kind(kind: str) -> None:
    if kind not in CONTRACTS:
        raise ValueError(f"unknown kind {kind!r}; expected one of {', '.join(KINDS)}")


def _load(
    engine: Engine, *, kind: str, raw: pd.DataFrame, source: str, sha256: str,
    mapping: Mapping[str, str] | None, hash_key: bytes, loaded_by: str, area_scope: Set[str] | None = None,
) -> LoadReport:
    contract, table = CONTRACTS[kind], RECORD_TABLES[kind]
    if raw.empty:
        raise BatchRejected(kind=kind, source=source, errors=[RowError(None, None, "the batch holds no records (only a header)")])
    frame, errors = canonical_columns(raw, mapping=mapping)
    frame = drop_person_columns(frame)
    keys = frame.pop(PETITIONER_KEY_COLUMN) if PETITIONER_KEY_COLUMN in frame.columns else None
    with engine.begin() as connection:
        prior = prior_batch(connection, kind=kind, sha256=sha256)
        if prior is not None:
            return LoadReport(prior, kind, source, len(frame), 0, 0, 0, already_loaded=True)
        known = stored_area_ids(connection)
        typed, pairs, batch_errors = validate(
            frame, contract=contract, table=table, known_area_ids=known if area_scope is None else known & set(area_scope)
        )
        errors += batch_errors
        if errors:
            raise BatchRejected(kind=kind, source=source, errors=errors)
        if kind == "petitions":
            typed = derive_repeat(typed, petitioner_keys=keys, hash_key=hash_key)
        hashes = content_hashes(typed, contract=contract)
        stored = stored_records(
            connection, contract=contract, table=table, ids=typed[contract.key[0]].dropna().unique().tolist()
        )
        plan = plan_changes(typed, hashes=hashes, stored=stored, contract=contract)
        if plan.conflicts:
            raise BatchRejected(kind=kind, source=source, errors=plan.conflicts)
        batch_id = insert_batch_row(
            connection, kind=kind, source=source, sha256=sha256, rows_in=len(typed), added=plan.added,
            corrected=plan.corrected, unchanged=plan.unchanged, loaded_by=loaded_by,
        )
        write_records(connection, table=table, rows=plan.new_rows, batch_id=batch_id,
                      pairs=pairs if kind == "policies" else None)
    return LoadReport(batch_id, kind, source, len(typed), plan.added, plan.corrected, plan.unchanged)
