"""Turn the text cells of a batch into typed columns, naming every cell that will not go.

Each check is a vectorised mask over a whole column; a cell gets at most one
error (an empty required cell is "empty", not also "unparseable"), so a
person fixing the file sees one reason per cell.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import sqlalchemy as sa

from features.contracts import Contract
from features.ingest.dates import parse_dates
from features.ingest.errors import FIRST_DATA_ROW, RowError
from features.ingest.read import TEXT

TRUE_WORDS = ("true", "t", "1", "yes", "y", "是", "1.0")
FALSE_WORDS = ("false", "f", "0", "no", "n", "否", "0.0")
FLAG_WORDS = {**dict.fromkeys(TRUE_WORDS, True), **dict.fromkeys(FALSE_WORDS, False)}
MAX_INTEGER = 2**31 - 1  # the SQL INTEGER of both backends
# Required columns whose cells may be blank, with the meaning of a blank.
BLANK_ALLOWED = {("areas", "parent_id")}  # blank parent = the root of the hierarchy


def cell_errors(mask: pd.Series, *, column: str, reason: str, raw: pd.Series) -> list[RowError]:
    """One ``RowError`` per true cell of ``mask``, with its spreadsheet row and raw value."""
    positions = np.flatnonzero(mask.to_numpy(dtype=bool, na_value=False))
    if positions.size == 0:
        return []
    values = raw.iloc[positions]
    return [
        RowError(int(position) + FIRST_DATA_ROW, column, reason, None if pd.isna(value) else str(value))
        for position, value in zip(positions, values, strict=True)
    ]


def normalise_choice(series: pd.Series) -> pd.Series:
    """``'Land Requisition'`` → ``land_requisition``: choices are codes, not prose."""
    return series.astype(TEXT).str.lower().str.replace(r"[\s\-]+", "_", regex=True)


def parse_numbers(raw: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Floats and the mask of present cells that are not finite numbers."""
    if pd.api.types.is_bool_dtype(raw):
        raw = raw.astype("Int64")
    numbers = pd.to_numeric(raw, errors="coerce").astype("Float64")
    finite = numbers.notna() & np.isfinite(numbers.fillna(0).to_numpy(dtype=float))
    return numbers.where(finite), raw.notna() & ~finite


def parse_flags(raw: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Booleans from true/false, 1/0, yes/no, 是/否 (any case); bad cells masked."""
    if pd.api.types.is_bool_dtype(raw):
        flags = raw.astype("boolean")
        return flags, pd.Series(False, index=raw.index)
    words = raw.astype(TEXT).str.strip().str.lower()
    flags = words.map(FLAG_WORDS, na_action="ignore").astype("boolean")
    return flags, raw.notna() & flags.isna()


def coerce(frame: pd.DataFrame, *, contract: Contract, table: sa.Table) -> tuple[pd.DataFrame, list[RowError]]:
    """Typed columns for every contract column (absent optional ones all missing) and the errors."""
    errors: list[RowError] = []
    typed: dict[str, pd.Series] = {}
    empty = pd.Series(pd.NA, index=frame.index, dtype=TEXT)
    for column in contract.columns:
        present = column in frame.columns
        if not present and column in contract.required:
            errors.append(RowError(None, column, "missing required column"))
        raw = frame[column] if present else empty
        missing = raw.isna()
        if column in contract.required and (contract.kind, column) not in BLANK_ALLOWED and present:
            errors += cell_errors(missing, column=column, reason="empty required value", raw=raw)
        values, column_errors = _typed_column(raw, column=column, contract=contract, table=table)
        typed[column] = values
        errors += column_errors
    return pd.DataFrame(typed, index=frame.index), errors


def _typed_column(
    raw: pd.Series, *, column: str, contract: Contract, table: sa.Table
) -> tuple[pd.Series, list[RowError]]:
    """Parse one column by its role in the contract."""
    if column in contract.dates:
        dates, bad = parse_dates(raw)
        return dates, cell_errors(bad, column=column, reason="unparseable date", raw=raw)
    if column in contract.flags:
        flags, bad = parse_flags(raw)
        return flags, cell_errors(bad, column=column, reason="not a yes/no value", raw=raw)
    if column in contract.counts or column in contract.shares or column in contract.reals:
        return _typed_number(raw, column=column, contract=contract)
    text = raw.astype(TEXT)
    if column in contract.choices:
        allowed = contract.choices[column]
        text = normalise_choice(text)
        bad = text.notna() & ~text.isin(allowed)
        return text, cell_errors(bad, column=column, reason=f"not one of {', '.join(allowed)}:", raw=raw)
    length = getattr(table.c[column].type, "length", None) if column in table.c else None
    if length is not None:
        bad = text.str.len().fillna(0) > length
        return text, cell_errors(bad, column=column, reason=f"longer than {length} characters:", raw=raw)
    return text, []


def _typed_number(raw: pd.Series, *, column: str, contract: Contract) -> tuple[pd.Series, list[RowError]]:
    numbers, bad = parse_numbers(raw)
    errors = cell_errors(bad, column=column, reason="bad number", raw=raw)
    if column in contract.counts:
        fractional = numbers.notna() & (numbers % 1 != 0)
        negative = numbers.notna() & ~fractional & (numbers < 0)
        too_large = numbers.notna() & ~fractional & (numbers > MAX_INTEGER)
        errors += cell_errors(fractional, column=column, reason="count is not a whole number:", raw=raw)
        errors += cell_errors(negative, column=column, reason="negative count", raw=raw)
        errors += cell_errors(too_large, column=column, reason="count too large", raw=raw)
        counts = numbers.where(~(fractional | negative | too_large)).round().astype("Int64")
        return counts, errors
    if column in contract.shares:
        outside = numbers.notna() & ((numbers < 0) | (numbers > 1))
        errors += cell_errors(outside, column=column, reason="share outside [0, 1]:", raw=raw)
        return numbers.where(~outside).astype("float64"), errors
    negative = numbers.notna() & (numbers < 0)
    errors += cell_errors(negative, column=column, reason="negative value", raw=raw)
    return numbers.where(~negative).astype("float64"), errors
