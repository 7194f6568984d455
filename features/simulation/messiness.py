"""``--messy``: the dirt of real government exports, injected on purpose and listed.

Applied only when writing CSV, with its own random stream (so a messy run
holds the same events as the clean run of the same seed). Rates are
``MessParams``:

- every CSV file is encoded in GB18030 (``encoding``);
- every date cell of every file is written ISO ``2023-03-31`` (60%),
  ``2023/3/31`` (25%) or ``2023年3月31日`` (15%) (``date_formats``);
- in ``petitions`` and ``mediation`` (the original records, not the
  corrections): ``unknown_area`` (0.2%) of rows get an area id that is in no
  areas file (``QX`` + digits); ``blank_optional`` (2%) of rows get one
  optional non-date field blanked (channel, people, level_reached, is_repeat,
  status, satisfied / outcome, parties, amount, origin); ``whitespace`` (3%)
  of rows get stray spaces around one text field (area_id, category /
  dispute_type, channel / outcome, status / origin); then ``duplicate_rows``
  (1%) of rows are written twice, the copy right after the row.

Everything injected is tallied in ``Mess.report`` and written to the
manifest under ``"messy"``: per file the date-format counts, and the record
ids of duplicated rows, unknown-area rows, blanked cells and padded cells.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from features.simulation.config import MessParams

KEY = {"petitions": "petition_id", "mediation": "case_id"}
BLANKABLE = {
    "petitions": ("channel", "people", "level_reached", "is_repeat", "status", "satisfied"),
    "mediation": ("outcome", "parties", "amount", "origin"),
}
PADDABLE = {
    "petitions": ("area_id", "category", "channel", "status"),
    "mediation": ("area_id", "dispute_type", "outcome", "origin"),
}
FORMATS = ("iso", "slash", "chinese")


def _render(column: pa.ChunkedArray) -> tuple[pd.Series, bool]:
    """Cells as strings ('' for null); and whether the column holds dates."""
    t = column.type
    if pa.types.is_date32(t):
        return pd.Series(pd.to_datetime(column.to_pandas(date_as_object=False))), True
    values = column.to_pandas()
    if pa.types.is_boolean(t):
        out = values.map({True: "true", False: "false"})
    elif pa.types.is_floating(t):
        out = values.map(lambda v: "" if pd.isna(v) else format(float(v), ".15g"))
    else:
        out = values.astype("string")
    return out.fillna("").astype(object), False


class Mess:
    """Injects the dirt into each chunk and remembers what it did."""

    def __init__(self, params: MessParams, rng: np.random.Generator) -> None:
        self.params, self.rng = params, rng
        self.report: dict[str, dict[str, Any]] = {}

    def _dates(self, stem: str, column: str, values: pd.Series) -> pd.Series:
        choice = self.rng.choice(3, size=len(values), p=self.params.date_formats)
        missing = values.isna().to_numpy()
        y, m, d = values.dt.year.astype("Int64").astype(str), values.dt.month.astype("Int64").astype(str), \
            values.dt.day.astype("Int64").astype(str)
        iso = values.dt.strftime("%Y-%m-%d")
        out = np.where(choice == 0, iso, np.where(choice == 1, y + "/" + m + "/" + d, y + "年" + m + "月" + d + "日"))
        out = np.where(missing, "", out)
        tally = self.report.setdefault(stem, {}).setdefault("date_formats", {f: 0 for f in FORMATS})
        for i, name in enumerate(FORMATS):
            tally[name] += int(((choice == i) & ~missing).sum())
        return pd.Series(out, index=values.index, dtype=object)

    def dirty(self, stem: str, table: pa.Table) -> pd.DataFrame:
        """The chunk as a frame of strings, with this file's dirt injected."""
        p, rng = self.params, self.rng
        frame = {}
        for name in table.column_names:
            values, is_date = _render(table.column(name))
            frame[name] = self._dates(stem, name, values) if is_date else values
        df = pd.DataFrame(frame)
        entry = self.report.setdefault(stem, {})
        entry.setdefault("date_formats", {f: 0 for f in FORMATS})
        if stem not in KEY or df.empty:
            return df
        key = KEY[stem]
        for name in ("unknown_area_ids", "duplicated_ids"):
            entry.setdefault(name, [])
        entry.setdefault("blanked", {c: [] for c in BLANKABLE[stem]})
        entry.setdefault("whitespace", {c: [] for c in PADDABLE[stem]})
        n = len(df)
        unknown = rng.random(n) < p.unknown_area
        if unknown.any():
            df.loc[unknown, "area_id"] = [f"QX{v:07d}" for v in rng.integers(0, 10_000_000, size=int(unknown.sum()))]
            entry["unknown_area_ids"].extend(df.loc[unknown, key].tolist())
        blank = rng.random(n) < p.blank_optional
        blank_col = rng.integers(0, len(BLANKABLE[stem]), size=n)
        for j, col in enumerate(BLANKABLE[stem]):
            rows = blank & (blank_col == j) & (df[col] != "").to_numpy()
            df.loc[rows, col] = ""
            entry["blanked"][col].extend(df.loc[rows, key].tolist())
        pad = rng.random(n) < p.whitespace
        pad_col = rng.integers(0, len(PADDABLE[stem]), size=n)
        pads = np.array([" ", "  ", "\u3000", " \t"])
        for j, col in enumerate(PADDABLE[stem]):
            rows = pad & (pad_col == j) & (df[col] != "").to_numpy()
            k = int(rows.sum())
            if k:
                left = pads[rng.integers(0, len(pads), size=k)]
                right = pads[rng.integers(0, len(pads), size=k)]
                df.loc[rows, col] = np.char.add(np.char.add(left, df.loc[rows, col].to_numpy().astype(str)), right)
                entry["whitespace"][col].extend(df.loc[rows, key].tolist())
        dup = rng.random(n) < p.duplicate_rows
        if dup.any():
            entry["duplicated_ids"].extend(df.loc[dup, key].tolist())
            df = df.loc[np.repeat(np.arange(n), np.where(dup, 2, 1))].reset_index(drop=True)
        return df
