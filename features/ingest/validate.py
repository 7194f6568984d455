"""Whole-batch validation: every error of every row, before anything is written.

``coerce`` checks cells one by one; this module adds what needs the whole
batch or the database: defaults, duplicate keys, date order, and references
to areas (which must be stored already or arrive in the same areas batch).
"""

from __future__ import annotations

from collections.abc import Set

import pandas as pd
import sqlalchemy as sa

from features.contracts import Contract
from features.ingest.coerce import cell_errors, coerce
from features.ingest.errors import FIRST_DATA_ROW, RowError
from features.ingest.read import TEXT

AREA_LIST_SEPARATORS = r"[;,；，]"


def validate(
    frame: pd.DataFrame, *, contract: Contract, table: sa.Table, known_area_ids: Set[str]
) -> tuple[pd.DataFrame, pd.DataFrame, list[RowError]]:
    """Typed batch, its policy-area pairs (empty for other kinds) and every error found."""
    typed, errors = coerce(frame, contract=contract, table=table)
    typed = default_recorded_on(typed, contract=contract)
    pairs = _no_pairs()
    if contract.kind == "policies":
        typed, pairs, list_errors = policy_areas(typed)
        errors += list_errors
    errors += duplicate_keys(typed, contract=contract)
    errors += date_order(typed, contract=contract)
    errors += area_references(typed, pairs, contract=contract, known=known_area_ids)
    errors.sort(key=lambda error: (error.row or 0, contract.columns.index(error.column)
                                   if error.column in contract.columns else len(contract.columns)))
    return typed, pairs, errors


def _no_pairs() -> pd.DataFrame:
    return pd.DataFrame({"position": pd.Series(dtype="int64"), "area_id": pd.Series(dtype=TEXT)})


def default_recorded_on(typed: pd.DataFrame, *, contract: Contract) -> pd.DataFrame:
    """A record with no ``recorded_on`` was known from the day it was received/opened."""
    for earlier, later in contract.ordered_dates:
        if later == "recorded_on":
            typed["recorded_on"] = typed["recorded_on"].fillna(typed[earlier])
    return typed


def policy_areas(typed: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame, list[RowError]]:
    """Split each policy's ``areas`` list; the column becomes the sorted ``;``-joined ids, so the
    content hash does not depend on order or separator."""
    listed = typed["areas"]
    pairs = policy_area_pairs(typed)
    typed["areas"] = pairs.groupby("position")["area_id"].agg(";".join).reindex(typed.index).astype(TEXT)
    empty = listed.notna() & typed["areas"].isna()
    return typed, pairs, cell_errors(empty, column="areas", reason="no area ids in the list", raw=listed)


def policy_area_pairs(typed: pd.DataFrame) -> pd.DataFrame:
    """(row position, area id) for every area a policy names, deduplicated and sorted."""
    lists = typed["areas"].str.split(AREA_LIST_SEPARATORS, regex=True)
    exploded = lists.explode().astype(TEXT).str.strip()
    pairs = pd.DataFrame({"position": exploded.index.to_numpy(dtype="int64"), "area_id": exploded.to_numpy()})
    pairs = pairs[pairs["area_id"].notna() & (pairs["area_id"] != "")]
    pairs = pairs.astype({"area_id": TEXT}).drop_duplicates().sort_values(["position", "area_id"])
    return pairs.reset_index(drop=True)


def key_text(typed: pd.DataFrame, *, columns: tuple[str, ...]) -> pd.Series:
    """A readable key per row, e.g. ``A1/2023-01-01``, for messages."""
    parts = [
        typed[column].dt.strftime("%Y-%m-%d") if pd.api.types.is_datetime64_any_dtype(typed[column])
        else typed[column].astype(TEXT)
        for column in columns
    ]
    text = parts[0].fillna("")
    for part in parts[1:]:
        text = text + "/" + part.fillna("")
    return text


def duplicate_keys(typed: pd.DataFrame, *, contract: Contract) -> list[RowError]:
    """Rows repeating an earlier row's key; versioned kinds may repeat an id at later ``recorded_on``."""
    columns = contract.key + (("recorded_on",) if contract.versioned else ())
    complete = typed[list(columns)].notna().all(axis=1)
    if not complete.any():
        return []
    keyed = typed.loc[complete, list(columns)]
    duplicate = keyed.duplicated(keep="first")
    if not duplicate.any():
        return []
    first = keyed.groupby(list(columns), sort=False, dropna=False).ngroup()
    first_row = pd.Series(keyed.index, index=keyed.index).groupby(first.to_numpy()).transform("min")
    text = key_text(typed, columns=columns)
    errors = []
    for position in keyed.index[duplicate.to_numpy()]:
        reason = f"duplicate key (first at row {int(first_row[position]) + FIRST_DATA_ROW})"
        errors.append(RowError(int(position) + FIRST_DATA_ROW, contract.key[0], reason, str(text[position])))
    return errors


def date_order(typed: pd.DataFrame, *, contract: Contract) -> list[RowError]:
    """A later date may not precede its earlier one (e.g. closed before received)."""
    errors: list[RowError] = []
    for earlier, later in contract.ordered_dates:
        wrong = typed[earlier].notna() & typed[later].notna() & (typed[later] < typed[earlier])
        errors += cell_errors(
            wrong, column=later, reason=f"date order violated: {later} is before {earlier}",
            raw=typed[later].dt.strftime("%Y-%m-%d") + f" < {earlier} " + typed[earlier].dt.strftime("%Y-%m-%d"),
        )
    return errors


def area_references(
    typed: pd.DataFrame, pairs: pd.DataFrame, *, contract: Contract, known: Set[str]
) -> list[RowError]:
    """Every area id a record names must be stored, or (for areas) arrive in this batch."""
    errors: list[RowError] = []
    if contract.kind == "areas":
        in_batch = set(typed["area_id"].dropna())
        parents = typed["parent_id"]
        unknown = parents.notna() & ~parents.isin(in_batch) & ~parents.isin(known)
        errors += cell_errors(unknown, column="parent_id", reason="unknown parent_id", raw=parents)
        itself = parents.notna() & (parents == typed["area_id"])
        errors += cell_errors(itself, column="parent_id", reason="an area cannot be its own parent:", raw=parents)
        return errors
    if contract.kind == "policies":
        unknown = ~pairs["area_id"].isin(known)
        return [
            RowError(int(position) + FIRST_DATA_ROW, "areas", "unknown area_id", str(area_id))
            for position, area_id in pairs.loc[unknown, ["position", "area_id"]].itertuples(index=False)
        ]
    for column in ("area_id", "neighbor_id"):
        if column in typed.columns:
            ids = typed[column]
            unknown = ids.notna() & ~ids.isin(known)
            errors += cell_errors(unknown, column=column, reason=f"unknown {column} (load areas first)", raw=ids)
    if contract.kind == "adjacency":
        itself = typed["area_id"].notna() & (typed["area_id"] == typed["neighbor_id"])
        errors += cell_errors(itself, column="neighbor_id", reason="an area cannot neighbour itself:", raw=typed["neighbor_id"])
    return errors
