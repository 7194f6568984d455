"""Deciding, per record, what a batch changes: added, corrected, unchanged, or refused.

Non-versioned kinds: a stored key with the same content is unchanged, an
unknown key is added, a stored key with other content is refused (no
silent overwrite).

Versioned kinds (petitions, mediation cases) are compared with the version
that was current at the row's ``recorded_on``:

- a row dated at or before the latest stored version is history: same
  content as the version current then → unchanged (re-loading an old
  export is harmless); other content → refused, since history is not
  rewritten;
- a row dated after the latest stored version is compared with the state
  just before it (the previous row of the same id in this batch, or the
  latest stored version): same → unchanged, other → a new version.

One batch may carry several versions of an id at strictly increasing
``recorded_on``; the same id twice at the same ``recorded_on`` is a
duplicate key (see ``validate``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from features.contracts import Contract
from features.ingest.errors import FIRST_DATA_ROW, RowError
from features.ingest.validate import key_text
from features.ingest.read import TEXT

NOUNS = {"petitions": "petition", "mediation": "mediation case", "areas": "area",
         "adjacency": "adjacency", "population": "population record", "policies": "policy"}


@dataclass(frozen=True)
class Plan:
    """Rows to insert (with ``version`` for versioned kinds) and the counts for the report."""

    new_rows: pd.DataFrame
    added: int
    corrected: int
    unchanged: int
    conflicts: list[RowError]


def plan_changes(typed: pd.DataFrame, *, hashes: pd.Series, stored: pd.DataFrame, contract: Contract) -> Plan:
    batch = typed.assign(content_hash=hashes, position=np.arange(len(typed)))
    if contract.versioned:
        return _plan_versioned(batch, stored=stored, contract=contract)
    return _plan_plain(batch, stored=stored, contract=contract)


def _plan_plain(batch: pd.DataFrame, *, stored: pd.DataFrame, contract: Contract) -> Plan:
    key = list(contract.key)
    merged = batch.merge(stored.rename(columns={"content_hash": "stored_hash"}), on=key, how="left")
    new = merged["stored_hash"].isna().to_numpy()
    same = (merged["stored_hash"] == merged["content_hash"]).fillna(False).to_numpy(dtype=bool)
    conflict = ~new & ~same
    text = key_text(merged, columns=contract.key)
    conflicts = [
        RowError(int(position) + FIRST_DATA_ROW, contract.key[0],
                 f"{NOUNS[contract.kind]} {text[i]} already stored with different content; "
                 f"{contract.kind} records are not versioned, so a re-load cannot change them", None)
        for i, position in zip(np.flatnonzero(conflict), merged["position"].to_numpy()[conflict], strict=True)
    ]
    rows = merged.loc[new].drop(columns=["stored_hash"])
    return Plan(rows.sort_values("position"), int(new.sum()), 0, int(same.sum()), conflicts)


def _plan_versioned(batch: pd.DataFrame, *, stored: pd.DataFrame, contract: Contract) -> Plan:
    id_column = contract.key[0]
    ordered = stored.sort_values([id_column, "version"])
    latest = ordered.groupby(id_column).tail(1).set_index(id_column)
    batch = batch.sort_values([id_column, "recorded_on"], kind="stable").reset_index(drop=True)
    ids = batch[id_column]
    last_on = ids.map(latest["recorded_on"]).astype("datetime64[ns]")
    history = last_on.notna() & (batch["recorded_on"] <= last_on)
    # History rows: the version current at their recorded_on (or the first one, if earlier).
    as_of = _hash_as_of(batch.loc[history, [id_column, "recorded_on", "position"]], ordered, id_column)
    same_history = history & (batch["content_hash"] == as_of.reindex(batch.index)).fillna(False)
    conflict = history & ~same_history
    # Later rows: the state just before, from this batch or the latest stored version.
    same_id = ids.eq(ids.shift()).fillna(False).astype(bool)
    prev_is_new = same_id & (last_on.isna() | (batch["recorded_on"].shift() > last_on))
    before = batch["content_hash"].shift().where(prev_is_new, ids.map(latest["content_hash"]))
    fresh = ~history
    same_fresh = fresh & (batch["content_hash"] == before).fillna(False)
    new = (fresh & ~same_fresh).to_numpy(dtype=bool)
    base = ids.map(latest["version"]).astype("Int64").fillna(0).astype("int64")
    rows = batch.loc[new].copy()
    rows["version"] = base[new] + rows.groupby(id_column).cumcount() + 1
    added = int((rows["version"] == 1).sum())
    conflicts = [
        RowError(int(position) + FIRST_DATA_ROW, "recorded_on",
                 f"{NOUNS[contract.kind]} {identifier} already stored with different content; "
                 f"a correction needs a later recorded_on than {stamp:%Y-%m-%d}",
                 f"{recorded:%Y-%m-%d}")
        for identifier, position, stamp, recorded in zip(
            ids[conflict], batch.loc[conflict, "position"], last_on[conflict], batch.loc[conflict, "recorded_on"],
            strict=True)
    ]
    conflicts.sort(key=lambda error: error.row or 0)
    unchanged = int(same_history.sum() + same_fresh.sum())
    return Plan(rows.sort_values("position"), added, len(rows) - added, unchanged, conflicts)


def _hash_as_of(rows: pd.DataFrame, ordered: pd.DataFrame, id_column: str) -> pd.Series:
    """Content hash of the stored version current at each row's recorded_on (first version if none)."""
    if rows.empty:
        return pd.Series(dtype=TEXT)
    versions = ordered[[id_column, "recorded_on", "content_hash"]].sort_values("recorded_on")
    left = rows.reset_index().sort_values("recorded_on")
    found = pd.merge_asof(left, versions, on="recorded_on", by=id_column, direction="backward")
    first = ordered.groupby(id_column)["content_hash"].first()
    found["content_hash"] = found["content_hash"].fillna(found[id_column].map(first))
    return found.set_index("index")["content_hash"]
