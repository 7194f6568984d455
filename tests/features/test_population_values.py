"""Population's known values through the rows they carry equal carrying each column on its own (hypothesis)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from features.pipeline import population
from features.pipeline.context import FeatureContext
from features.pipeline.grid import make_grid

AREAS = ["S0", "S0C0", "S0C1", "S1C0"]  # S0 is a street above the communities: its rows roll up to none of them
COLUMNS = ["residents", "migrants", "elderly_share"]


def _grid():
    areas = pd.DataFrame({"area_id": AREAS, "parent_id": [None, "S0", "S0", None], "level": ["street", "community",
                                                                                            "community", "community"]})
    return make_grid(areas=areas, adjacency=pd.DataFrame({"area_id": [], "neighbor_id": []}),
                     record_areas=pd.Series(["S0C0"]), first=pd.Timestamp("2020-01-06"), last=pd.Timestamp("2022-06-27"),
                     period="week", week_start="monday")


rows = st.lists(st.tuples(st.sampled_from(AREAS), st.integers(-20, 150), st.floats(1, 1e4),
                          st.none() | st.floats(0, 1e3), st.none() | st.floats(0, 1)), max_size=30)


@settings(max_examples=150, deadline=None)
@given(rows=rows, lo=st.integers(0, 130), gaps=st.booleans())
def test_values_through_the_latest_rows_equal_each_column_carried_on_its_own(rows, lo: int, gaps: bool) -> None:
    grid = _grid()
    frame = pd.DataFrame({"area_id": [a for a, *_ in rows],
                          "period_start": pd.Timestamp("2020-01-06") + pd.to_timedelta([7 * w for _, w, *_ in rows], unit="D"),
                          "residents": [r for _, _, r, _, _ in rows],
                          "migrants": [m if gaps else 1.0 for _, _, _, m, _ in rows],
                          "elderly_share": [e if gaps else 0.5 for *_, e in rows]}, columns=["area_id", "period_start", *COLUMNS])
    frame[COLUMNS] = frame[COLUMNS].astype(np.float64)
    ctx = FeatureContext(grid=grid, lo=min(lo, grid.n_periods - 1), hi=grid.n_periods, available=set(), records={},
                         population=frame)
    for column in COLUMNS:
        np.testing.assert_array_equal(population.known_values(ctx, column), population._carried(ctx, column))
