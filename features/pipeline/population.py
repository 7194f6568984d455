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
    return ctx.once(("population", column), lambda: _known_values(ctx, column))


def _known_values(ctx: FeatureContext, column: str) -> np.ndarray:
    """``known_values`` through the latest rows (``_latest_rows``), shared by every column holding a value in each
    row (the register's usual shape): one carry forward for the seven columns, then one gather each."""
    if ctx.population is None or not len(ctx.population) or column not in ctx.population:
        return _carried(ctx, column)
    frame, _area, _known_from = _rows(ctx)
    values = frame[column].to_numpy(dtype=np.float64)
    if np.isnan(values).any():  # a gap: an older row's value shows through it, so this column is carried on its own
        return _carried(ctx, column)
    latest = _latest_rows(ctx)
    out = np.full(latest.shape, np.nan)
    known = latest >= 0
    out[known] = values[latest[known]]
    return out


def _latest_rows(ctx: FeatureContext) -> np.ndarray:
    """[areas, periods in [lo - Y, hi)]: the row (``_rows``) whose values each cell carries, -1 where none does."""
    def carry() -> np.ndarray:
        frame, _area, _known_from = _rows(ctx)
        rows = _carried(ctx, None, values=np.arange(len(frame), dtype=np.float64))
        return np.where(np.isnan(rows), -1, rows).astype(np.int64)

    return ctx.once(("population", "latest rows"), carry)


def _carried(ctx: FeatureContext, column: str | None, *, values: np.ndarray | None = None) -> np.ndarray:
    """``column``'s values (or ``values``, one per row of ``_rows``) at the period each row becomes known, later rows
    winning, carried forward a year at most, over [lo - Y, hi)."""
    year = WINDOWS[ctx.grid.period]["Y"]
    ext_lo = ctx.lo - 2 * year
    width = ctx.hi - ext_lo
    dense = np.full((ctx.grid.n_areas, width), np.nan)
    if ctx.population is not None and len(ctx.population) and (column is None or column in ctx.population):
        frame, area, known_from = _rows(ctx)
        if values is None:
            values = frame[column].to_numpy(dtype=np.float64)
        at = known_from - ext_lo
        ok = (at >= 0) & (at < width) & ~np.isnan(values)
        dense[area[ok], at[ok]] = values[ok]  # later rows win
    return ctx.loops().carry_forward(dense, year - 1)[:, year:]


def _rows(ctx: FeatureContext) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """The panel areas' population rows by date, with their area and first known period, encoded once."""
    def encode() -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
        frame = ctx.population
        frame = frame[frame["area_id"].isin(set(ctx.grid.area_ids))].sort_values("period_start", kind="stable")
        return frame, ctx.grid.area_index(frame["area_id"]), ctx.grid.period_index(frame["period_start"]) + 1

    return ctx.once(("population", "rows"), encode)


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
