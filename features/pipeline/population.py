"""Population structure and change, as counted before each period.

A population row for the period starting on ``period_start`` is used from
the next period on (the count describes that period, so it is not known
before it starts) and is carried forward for at most a year: a register
older than that describes another community. Where nothing is known the
features are missing, so rates never divide by an invented population.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from features.catalogue import WINDOWS, FeatureSpec
from features.pipeline.context import FeatureContext


def known_values(ctx: FeatureContext, column: str) -> np.ndarray:
    """[areas, periods in [lo - Y, hi)] of the latest known value of ``column`` (NaN: unknown)."""
    memo_key = ("population", column)
    if memo_key in ctx._memo:
        return ctx._memo[memo_key]
    year = WINDOWS[ctx.grid.period]["Y"]
    ext_lo = ctx.lo - 2 * year
    width = ctx.hi - ext_lo
    values = np.full((ctx.grid.n_areas, width), np.nan)
    if ctx.population is not None and len(ctx.population) and column in ctx.population:
        frame, area, known_from = _rows(ctx)
        at = known_from - ext_lo
        ok = (at >= 0) & (at < width) & frame[column].notna().to_numpy()
        values[area[ok], at[ok]] = frame[column].to_numpy(dtype=np.float64)[ok]  # later rows win
    carried = ctx.loops().carry_forward(values, year - 1)
    ctx._memo[memo_key] = carried[:, year:]
    return ctx._memo[memo_key]


def _rows(ctx: FeatureContext) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """The panel areas' population rows by date, with their area and first known period, encoded once."""
    if ("population", "rows") not in ctx._memo:
        frame = ctx.population
        frame = frame[frame["area_id"].isin(set(ctx.grid.area_ids))].sort_values("period_start", kind="stable")
        ctx._memo[("population", "rows")] = (frame, ctx.grid.area_index(frame["area_id"]),
                                             ctx.grid.period_index(frame["period_start"]) + 1)
    return ctx._memo[("population", "rows")]


def _now(ctx: FeatureContext, column: str) -> np.ndarray:
    year = WINDOWS[ctx.grid.period]["Y"]
    return known_values(ctx, column)[:, year:]


def residents(ctx: FeatureContext) -> np.ndarray:
    return _now(ctx, "residents")


def pop(ctx: FeatureContext, spec: FeatureSpec) -> np.ndarray:
    return _now(ctx, spec.key[1]).astype(np.float32)


def pop_share(ctx: FeatureContext, spec: FeatureSpec) -> np.ndarray:
    people = residents(ctx)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = _now(ctx, spec.key[1]) / people
    return np.where(people > 0, out, np.nan).astype(np.float32)


def pop_per_1000(ctx: FeatureContext, spec: FeatureSpec) -> np.ndarray:
    return (pop_share(ctx, spec) * np.float32(1000)).astype(np.float32)


def pop_change(ctx: FeatureContext, spec: FeatureSpec) -> np.ndarray:
    year = spec.key[1]
    series = known_values(ctx, "residents")
    before, now = series[:, :-year], series[:, year:]
    with np.errstate(divide="ignore", invalid="ignore"):
        out = now / before - 1.0
    return np.where(before > 0, out, np.nan).astype(np.float32)


HANDLERS = {"pop": pop, "pop_share": pop_share, "pop_per_1000": pop_per_1000, "pop_change": pop_change}
