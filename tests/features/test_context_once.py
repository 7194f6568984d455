"""``FeatureContext.once``: a value both counting threads ask for at the same moment is made once."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pandas as pd

from features.pipeline.context import FeatureContext
from features.pipeline.grid import make_grid


def _context() -> FeatureContext:
    areas = pd.DataFrame({"area_id": ["A", "B"], "parent_id": [None, None], "level": ["community"] * 2})
    grid = make_grid(areas=areas, adjacency=pd.DataFrame({"area_id": [], "neighbor_id": []}), record_areas=pd.Series(["A"]),
                     first=pd.Timestamp("2024-01-01"), last=pd.Timestamp("2024-02-05"), period="week", week_start="monday")
    return FeatureContext(grid=grid, lo=0, hi=grid.n_periods, available=set(), records={})


def test_two_threads_asking_at_once_wait_for_one_make() -> None:
    ctx, made, together = _context(), [], threading.Barrier(2)

    def make() -> object:
        made.append(threading.get_ident())
        time.sleep(0.05)  # long enough for the other thread to ask meanwhile
        return object()

    def ask() -> object:
        together.wait()
        return ctx.once(("population", "residents"), make)

    with ThreadPoolExecutor(max_workers=2) as pool:
        first, second = pool.map(lambda _: ask(), range(2))
    assert len(made) == 1 and first is second
    assert ctx.once(("population", "residents"), make) is first and len(made) == 1
