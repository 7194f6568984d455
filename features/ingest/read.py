"""Reading a source into a frame of canonical column names and clean text.

Government exports arrive as CSV in UTF-8 (often with a BOM) or GB18030/GBK,
or as Parquet. Everything textual is read as text: types are decided by the
record contract later, so a bad cell becomes a named error instead of a
silently coerced value.
"""

from __future__ import annotations

import codecs
import hashlib
import io
import json
import re
from collections.abc import Mapping
from pathlib import Path

import pandas as pd
import yaml

from features.ingest.errors import RowError

PARQUET_MAGIC = b"PAR1"
# Text columns are Arrow-backed: several times faster string operations than
# Python objects, and dense in memory (STYLE.md: no object columns in hot paths).
TEXT = pd.StringDtype("pyarrow")
# Tried in order when no encoding is given: strict UTF-8 first (a GB18030
# decoder accepts almost any bytes, so it must come last).
AUTO_ENCODINGS = ("utf-8", "gb18030")


class UnreadableSource(Exception):
    """The bytes could not be read as a table at all."""

    def __init__(self, error: RowError) -> None:
        self.error = error
        super().__init__(str(error))


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def normalise_header(name: object) -> str:
    """``' Area ID '`` → ``area_id``: case, spaces and hyphens do not matter in headers."""
    text = str(name).replace("\ufeff", "").strip().lower()
    return re.sub(r"[\s\-]+", "_", text)


def read_mapping(path: Path) -> dict[str, str]:
    """Read ``{source_column: canonical_column}`` from YAML or JSON (JSON is YAML too)."""
    text = Path(path).read_text(encoding="utf-8-sig")
    try:
        loaded = json.loads(text) if Path(path).suffix.lower() == ".json" else yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ValueError(f"mapping file {path} is not valid YAML: {exc}") from exc
    if not isinstance(loaded, dict) or not all(
        isinstance(key, str) and isinstance(value, str) for key, value in loaded.items()
    ):
        raise ValueError(f"mapping file {path} must map source column names to canonical names")
    return dict(loaded)


def decode(data: bytes, *, encoding: str | None) -> str:
    """Decode with ``encoding``, or auto-detect: UTF-8 (BOM or not), then GB18030."""
    if encoding is not None:
        try:
            codecs.lookup(encoding)
        except LookupError as exc:
            raise UnreadableSource(RowError(None, None, f"unknown encoding {encoding!r}")) from exc
        candidates: tuple[str, ...] = (encoding,)
    else:
        candidates = AUTO_ENCODINGS
    for candidate in candidates:
        try:
            text = data.decode(candidate)
        except UnicodeDecodeError:
            continue
        return text.removeprefix("\ufeff")
    raise UnreadableSource(
        RowError(None, None, f"cannot decode the file as {' or '.join(candidates)}; pass --encoding")
    )


def read_source(path: Path, *, encoding: str | None = None) -> tuple[pd.DataFrame, str]:
    """Read a CSV or Parquet file (told apart by content, not name); return it and its sha256."""
    data = Path(path).read_bytes()
    digest = sha256_bytes(data)
    if data[:4] == PARQUET_MAGIC:
        try:
            return pd.read_parquet(io.BytesIO(data)), digest
        except Exception as exc:  # noqa: BLE001 - any reader failure is a refusal
            raise UnreadableSource(RowError(None, None, f"unreadable Parquet file: {exc}")) from exc
    text = decode(data, encoding=encoding)
    if not text.strip():
        raise UnreadableSource(RowError(None, None, "the file is empty"))
    try:
        frame = pd.read_csv(
            io.StringIO(text), dtype=TEXT, keep_default_na=False, na_values=[""], skip_blank_lines=True
        )
    except (pd.errors.ParserError, ValueError) as exc:
        raise UnreadableSource(RowError(None, None, f"unreadable CSV: {exc}")) from exc
    return frame, digest


def read_json_lines(path: Path) -> pd.DataFrame:
    """One JSON object per line, read as text cells like a CSV (blank lines are skipped).

    Values become text so the contract decides their types, as for a CSV:
    numbers and booleans are written out, ``null`` is missing, and a list
    (a policy's ``areas``) is joined with ``;``. Anything else is refused
    naming the line. Rows keep the CSV numbering convention (first record =
    row 2), so callers shift by one to report lines.
    """
    records: list[dict[str, str | None]] = []
    with Path(path).open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            if not raw.strip():
                continue
            try:
                item = json.loads(raw)
            except (UnicodeDecodeError, json.JSONDecodeError) as exc:
                raise UnreadableSource(RowError(number + 1, None, f"line {number} is not JSON: {exc}")) from exc
            if not isinstance(item, dict):
                raise UnreadableSource(RowError(number + 1, None, f"line {number} is not a JSON object"))
            row: dict[str, str | None] = {}
            for key, value in item.items():
                if isinstance(value, list) and all(isinstance(v, str | int) for v in value):
                    row[key] = ";".join(map(str, value))
                elif isinstance(value, dict | list):
                    raise UnreadableSource(RowError(number + 1, str(key), f"line {number}: a nested value is not allowed"))
                elif isinstance(value, bool):
                    row[key] = "true" if value else "false"
                else:
                    row[key] = None if value is None else str(value)
            records.append(row)
    if not records:
        raise UnreadableSource(RowError(None, None, "the body holds no JSON lines"))
    return pd.DataFrame.from_records(records).astype(TEXT)


def canonical_columns(
    frame: pd.DataFrame, *, mapping: Mapping[str, str] | None = None
) -> tuple[pd.DataFrame, list[RowError]]:
    """Rename to canonical headers, strip text, blank → missing; a clash of names is an error."""
    renames = {normalise_header(source): normalise_header(target) for source, target in (mapping or {}).items()}
    headers = [normalise_header(column) for column in frame.columns]
    headers = [renames.get(header, header) for header in headers]
    errors: list[RowError] = []
    seen: set[str] = set()
    keep: list[int] = []
    for position, header in enumerate(headers):
        if header in seen:
            errors.append(RowError(None, header, "duplicate column (after renaming)"))
            continue
        seen.add(header)
        keep.append(position)
    out = frame.iloc[:, keep].copy()
    out.columns = [headers[position] for position in keep]
    out = out.reset_index(drop=True)
    for column in out.columns:
        out[column] = clean_text(out[column])
    return out, errors


def clean_text(series: pd.Series) -> pd.Series:
    """Strip whitespace of text cells and make blanks missing; leave typed columns alone."""
    if not (pd.api.types.is_object_dtype(series) or pd.api.types.is_string_dtype(series)):
        return series
    text = series.astype(TEXT).str.strip()
    return text.mask(text == "")
