"""Person-level fields stop here (DESIGN.md principle 1: areas, never people).

Names, ID numbers, phones and addresses are dropped as soon as a batch is
read. A petitioner key, if given, is used once — through a keyed hash, so
the raw key is not even compared in the clear — to derive ``is_repeat``,
and is then dropped too. Neither the key nor its hash leaves this module.
"""

from __future__ import annotations

import hashlib
import hmac

import numpy as np
import pandas as pd

from features.contracts import PERSON_COLUMNS
from features.ingest.read import TEXT


def drop_person_columns(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame without any column that identifies a person (the petitioner key is kept for now)."""
    person = [column for column in frame.columns if column in PERSON_COLUMNS]
    return frame.drop(columns=person)


def derive_repeat(
    typed: pd.DataFrame, *, petitioner_keys: pd.Series | None, hash_key: bytes
) -> pd.DataFrame:
    """``is_repeat`` OR-ed with "this petitioner already petitioned in this category in the batch".

    Petitions are ordered by ``received_on`` and then by position in the
    batch; every petition of a (petitioner, category) pair after the first
    is a repeat. Rows without a key keep the ``is_repeat`` they came with.
    Only the boolean is returned; the hashes die with this call.
    """
    if petitioner_keys is None:
        return typed
    keys = petitioner_keys.astype(TEXT).str.strip().str.upper()
    known = keys.notna().to_numpy()
    if not known.any():
        return typed
    digests = [hmac.new(hash_key, key.encode("utf-8"), hashlib.sha256).hexdigest() for key in keys[known]]
    order = pd.DataFrame(
        {"digest": digests, "category": typed["category"][known], "received_on": typed["received_on"][known],
         "position": np.flatnonzero(known)},
        index=typed.index[known],
    ).sort_values(["received_on", "position"], kind="stable")
    repeat = order.duplicated(["digest", "category"], keep="first").reindex(typed.index, fill_value=False)
    out = typed.copy()
    derived = out["is_repeat"].astype("boolean") | pd.array(repeat.to_numpy(), dtype="boolean")
    out["is_repeat"] = derived.mask(derived.isna() & known, False)
    return out
