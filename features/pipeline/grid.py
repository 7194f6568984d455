"""The panel grid: which areas and periods get a row, and how dates map to periods.

Every area at the panel's level gets a row, whether or not it has records:
an area without petitions is information, not a gap. The level is the
deepest level of the hierarchy that holds records; records filed deeper are
rolled up to their ancestor at that level, records filed higher up cannot be
split among areas and are left out (their number is reported).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp

from features.calendar import Period, WeekStart, period_start

BIG = np.int64(1) << 30  # "never": a period index beyond any panel, small enough for the int32 encoded records


@dataclass(frozen=True)
class Grid:
    """Areas × periods of one panel, with the hierarchy the spatial features use."""

    period: Period
    week_start: WeekStart
    area_ids: np.ndarray  # str, sorted: the panel areas
    periods: pd.DatetimeIndex  # every period start of the panel
    rollup: dict[str, int]  # any area id at or below the panel level -> panel index
    parent: np.ndarray  # int64 parent code per panel area (-1: none)
    neighbours: sp.csr_matrix  # panel adjacency, symmetric, no self loops
    below: dict[str, np.ndarray]  # area above the panel level -> panel indices under it

    @property
    def n_areas(self) -> int:
        return len(self.area_ids)

    @property
    def n_periods(self) -> int:
        return len(self.periods)

    def period_index(self, dates: pd.Series | np.ndarray) -> np.ndarray:
        """Index of the period holding each date, relative to the first panel period (NaT -> BIG)."""
        stamps = np.asarray(dates, dtype="datetime64[ns]")
        origin = self.periods[0]
        if self.period == "month":
            values = pd.DatetimeIndex(stamps)
            ym = (np.nan_to_num(values.year.to_numpy(dtype=np.float64)) * 12
                  + np.nan_to_num(values.month.to_numpy(dtype=np.float64))).astype(np.int64)
            out = ym - (origin.year * 12 + origin.month)
        else:  # whole weeks since the first period's start, on the integers (NaT is int64's minimum, replaced below)
            nanoseconds = stamps.view(np.int64)
            out = (nanoseconds - origin.value) // (7 * 86_400 * 10**9)
        return np.where(np.isnat(stamps), BIG, out).astype(np.int64, copy=False)

    def start_of(self, index: int) -> pd.Timestamp:
        """Start of the period ``index`` periods after the first (negative: before the panel)."""
        origin = self.periods[0]
        if self.period == "month":
            return origin + pd.DateOffset(months=int(index))
        return origin + pd.Timedelta(weeks=int(index))

    def area_index(self, area_ids: pd.Series) -> np.ndarray:
        """Panel index of each record's area (-1 for areas above the panel level or unknown)."""
        return lookup_codes(pd.Series(area_ids), self.rollup)


def lookup_codes(values: pd.Series, table: dict[str, int]) -> np.ndarray:
    """``table[value]`` for every value (-1 when absent); maps a categorical's categories only once."""
    if not isinstance(values.dtype, pd.CategoricalDtype):
        values = values.astype(object).astype("category")
    lookup = np.array([table.get(v, -1) for v in values.cat.categories], dtype=np.int64)
    codes = values.cat.codes.to_numpy()
    return np.where(codes >= 0, lookup[np.maximum(codes, 0)] if len(lookup) else -1, -1).astype(np.int64)


def _depths(areas: pd.DataFrame) -> pd.Series:
    parent = dict(zip(areas["area_id"], areas["parent_id"]))
    depth: dict[str, int] = {}
    for area in areas["area_id"]:
        chain, node = [], area
        while node in parent and node not in depth and len(chain) < 64:
            chain.append(node)
            node = parent[node]
        base = depth.get(node, -1)
        for offset, item in enumerate(reversed(chain), start=1):
            depth[item] = base + offset
    return areas["area_id"].map(depth)


def make_grid(*, areas: pd.DataFrame, adjacency: pd.DataFrame, record_areas: pd.Series,
              first: pd.Timestamp, last: pd.Timestamp, period: Period, week_start: WeekStart) -> Grid:
    """Build the grid from the area table, the areas that carry records, and the period span."""
    if not len(areas):
        raise LookupError("no areas are loaded: load the area hierarchy before building features")
    areas = areas.assign(depth=_depths(areas))
    with_records = areas[areas["area_id"].isin(set(record_areas))]
    depth = int(with_records["depth"].max()) if len(with_records) else int(areas["depth"].max())
    panel = np.sort(areas.loc[areas["depth"] == depth, "area_id"].to_numpy(dtype=str))
    rollup = {area: code for code, area in enumerate(panel)}
    parent = dict(zip(areas["area_id"], areas["parent_id"]))
    for area in areas.loc[areas["depth"] > depth, "area_id"]:  # deeper areas roll up
        node = area
        while node is not None and node not in rollup:
            node = parent.get(node)
        if node is not None:
            rollup[area] = rollup[node]
    below: dict[str, list[int]] = {}
    for code, area in enumerate(panel):
        node, seen = parent.get(area), 0
        while node is not None and seen < 64:
            below.setdefault(node, []).append(code)
            node, seen = parent.get(node), seen + 1
    parents = pd.Series([parent.get(a) for a in panel], dtype=object)
    parent_codes = pd.factorize(parents, use_na_sentinel=True)[0].astype(np.int64)
    parent_codes[parents.isna().to_numpy()] = -1
    src = lookup_codes(pd.Series(adjacency["area_id"]), rollup)
    dst = lookup_codes(pd.Series(adjacency["neighbor_id"]), rollup)
    ok = (src >= 0) & (dst >= 0) & (src != dst)
    i, j = src[ok], dst[ok]
    n = len(panel)
    graph = sp.coo_matrix((np.ones(2 * len(i)), (np.r_[i, j], np.r_[j, i])), shape=(n, n)).tocsr()
    graph.data[:] = 1.0  # duplicates summed by tocsr: keep a 0/1 matrix
    starts = pd.date_range(first, last, freq="MS") if period == "month" else pd.date_range(first, last, freq="7D")
    assert (period_start(starts, period, week_start) == starts).all()
    below_arrays = {area: np.asarray(codes, dtype=np.int64) for area, codes in below.items()}
    return Grid(period, week_start, panel, starts, rollup, parent_codes, graph, below_arrays)
