"""Content hashes: what makes two versions of a record "the same".

The hash covers the canonical columns with normalised values (ISO dates,
integers without ``.0``, booleans as 1/0), so the same record read from CSV
or Parquet, UTF-8 or GB18030, hashes the same. Blank columns are left out
and the rest are named, so a column added to a contract later does not
change the hash of records that do not use it. ``recorded_on`` is left out
of versioned kinds: it says when a record was known, not what it says, and
a re-export that only touches it is not a correction.
"""

from __future__ import annotations

import hashlib

import pandas as pd

from features.contracts import Contract
from features.ingest.read import TEXT

FIELD_SEPARATOR = "\x1e"


def hashed_columns(contract: Contract) -> list[str]:
    excluded = {"recorded_on"} if contract.versioned else set()
    return sorted(column for column in contract.columns if column not in excluded)


def canonical_text(series: pd.Series) -> pd.Series:
    """One normalised text per cell, empty when missing."""
    if pd.api.types.is_datetime64_any_dtype(series):
        text = series.dt.strftime("%Y-%m-%d")
    elif pd.api.types.is_bool_dtype(series):
        text = series.astype("Int64").astype(TEXT)
    elif pd.api.types.is_integer_dtype(series):
        text = series.astype("Int64").astype(TEXT)
    elif pd.api.types.is_float_dtype(series):
        text = pd.Series(
            [repr(float(value)) for value in series.to_numpy(dtype=float, na_value=float("nan"))],
            index=series.index, dtype=TEXT,
        ).mask(series.isna())
    else:
        text = series.astype(TEXT)
    return text.fillna("")


def content_hashes(typed: pd.DataFrame, *, contract: Contract) -> pd.Series:
    """sha256 hex of the named, non-blank canonical columns of every row."""
    joined = pd.Series("", index=typed.index, dtype=TEXT)
    for column in hashed_columns(contract):
        text = canonical_text(typed[column])
        joined = joined + (FIELD_SEPARATOR + column + "=" + text).where(text != "", "")
    return pd.Series(
        [hashlib.sha256(row.encode("utf-8")).hexdigest() for row in joined.to_numpy(dtype=object)],
        index=typed.index, dtype=TEXT,
    )
