"""Exposure to recent policies: how many, of which type, how large, how recent.

A policy is known from its announcement, so it counts from the period after
``announced_on``; "in effect" starts the period after ``effective_on``. A
policy listed for a street or district exposes every panel area under it;
one listed for a grid exposes the community holding the grid.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from features.catalogue import FeatureSpec
from features.pipeline.context import FeatureContext
from features.pipeline.grid import BIG
from features.pipeline.intervals import interval_sum, last_event, window_bounds


def exposures(ctx: FeatureContext) -> pd.DataFrame:
    """One row per (panel area, policy), with period indices of the policy's dates."""
    if "exposures" in ctx._memo:
        return ctx._memo["exposures"]
    frame = ctx.policies if ctx.policies is not None else pd.DataFrame(columns=["area_id", "policy_id"])
    grid = ctx.grid
    own = grid.area_index(frame["area_id"]) if len(frame) else np.zeros(0, dtype=np.int64)
    pieces = [frame.assign(code=own)[own >= 0]]
    above = frame[own < 0]
    if len(above):  # every panel area under the listed one, one row each
        empty = np.zeros(0, dtype=np.int64)
        codes = [grid.below.get(str(area_id), empty) for area_id in above["area_id"]]
        sizes = np.array([len(c) for c in codes], dtype=np.int64)
        if sizes.sum():
            pieces.append(above.iloc[np.repeat(np.arange(len(above)), sizes)].assign(code=np.concatenate(codes)))
    out = pd.concat(pieces, ignore_index=True).drop_duplicates(["code", "policy_id"]) if pieces else frame
    if len(out):
        out = out.assign(announced=grid.period_index(out["announced_on"]), effective=grid.period_index(out["effective_on"]))
    ctx._memo["exposures"] = out
    return out


def _sum(ctx: FeatureContext, rows: pd.DataFrame, *, start: np.ndarray, end: np.ndarray, weight: np.ndarray | None) -> np.ndarray:
    return interval_sum(area=rows["code"].to_numpy(dtype=np.int64), start=start, end=end, weight=weight,
                        n_areas=ctx.grid.n_areas, lo=ctx.lo, hi=ctx.hi)


def _window(rows: pd.DataFrame, window: int) -> tuple[np.ndarray, np.ndarray]:
    event = rows["announced"].to_numpy(dtype=np.int64)
    return window_bounds(event=event, known_from=event + 1, known_until=np.full(len(event), BIG), window=window)


def pol_n(ctx: FeatureContext, spec: FeatureSpec) -> np.ndarray:
    _, kind, window = spec.key
    rows = exposures(ctx)
    if kind is not None:
        rows = rows[rows["type"] == kind]
    start, end = _window(rows, window)
    return _sum(ctx, rows, start=start, end=end, weight=None)


def _weight(rows: pd.DataFrame, what: str | None) -> np.ndarray | None:
    """What each exposure adds to a policy feature: one (None), its households, no hearing, compensation shortfall."""
    if what is None:
        return None
    if what == "households":  # unknown counts as 0
        return rows["households_affected"].fillna(0).to_numpy(dtype=np.float64)
    if what == "no_hearing":
        return (rows["hearing_held"] == 0).to_numpy(dtype=np.float64)
    if what == "shortfall":  # max(0, 1 - compensation ratio); unknown counts as 0
        return (1 - rows["compensation_ratio"].astype(np.float64)).clip(lower=0).fillna(0).to_numpy()
    raise ValueError(f"unknown policy weight {what!r}")


def pol_households(ctx: FeatureContext, spec: FeatureSpec) -> np.ndarray:
    rows = exposures(ctx)
    start, end = _window(rows, spec.key[1])
    return _sum(ctx, rows, start=start, end=end, weight=_weight(rows, "households"))


def pol_no_hearing(ctx: FeatureContext, spec: FeatureSpec) -> np.ndarray:
    rows = exposures(ctx)
    start, end = _window(rows, spec.key[1])
    return _sum(ctx, rows, start=start, end=end, weight=_weight(rows, "no_hearing"))


def pol_pending(ctx: FeatureContext, spec: FeatureSpec) -> np.ndarray:
    rows = exposures(ctx)
    start = rows["announced"].to_numpy(dtype=np.int64) + 1
    return _sum(ctx, rows, start=start, end=rows["effective"].to_numpy(dtype=np.int64) + 1, weight=None)


def pol_in_force(ctx: FeatureContext, spec: FeatureSpec) -> np.ndarray:
    """Policies from the period after their announcement to ``after`` periods past taking effect."""
    _, variant, after = spec.key
    rows = exposures(ctx)
    start = rows["announced"].to_numpy(dtype=np.int64) + 1
    end = np.maximum(rows["effective"].to_numpy(dtype=np.int64) + after + 1, start)
    return _sum(ctx, rows, start=start, end=end, weight=_weight(rows, variant))


def pol_since(ctx: FeatureContext, spec: FeatureSpec) -> np.ndarray:
    rows = exposures(ctx)
    latest = last_event(area=rows["code"].to_numpy(dtype=np.int64), event=rows[spec.key[1]].to_numpy(dtype=np.int64),
                        n_areas=ctx.grid.n_areas, lo=ctx.lo, hi=ctx.hi)
    since = np.arange(ctx.lo, ctx.hi)[None, :] - latest
    return np.where(latest > -BIG, since, np.nan).astype(np.float32)


HANDLERS = {"pol_n": pol_n, "pol_households": pol_households, "pol_no_hearing": pol_no_hearing,
            "pol_pending": pol_pending, "pol_in_force": pol_in_force, "pol_since": pol_since}
