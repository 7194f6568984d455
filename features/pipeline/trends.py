"""Trend and surprise against the area's own last year.

"Surprise" is a Poisson z-score: the count of the last few periods against
what the area's rate over the rest of its last year predicts,
``(n_S - E) / sqrt(E + 1)`` with ``E = S * (n_Y - n_S) / (Y - S)``; the +1
keeps quiet areas from producing huge scores out of one petition. A
sample-variance z-score would need per-period counts *as known at t*, which
are not linear in the records; the Poisson form is, so it stays exact under
corrections. All three are missing until the records known at t reach a
year back: before that, "last year" would be a stretch of zeros.
"""

from __future__ import annotations

import numpy as np

from features.catalogue import WINDOWS, FeatureSpec
from features.pipeline.context import FeatureContext
from features.pipeline.counts import escalations


def _count(ctx: FeatureContext, src: str, window: int, lag: int = 0) -> np.ndarray:
    if src == "esc":
        return escalations(ctx, window, lag)
    return ctx.count("petitions" if src == "pet" else "mediation", "total", window, lag)


def _with_history(ctx: FeatureContext, values: np.ndarray) -> np.ndarray:
    year = WINDOWS[ctx.grid.period]["Y"]
    t = np.arange(ctx.lo, ctx.hi)
    ok = (t - ctx.first_known) >= year
    return np.where(ok[None, :], values, np.nan).astype(np.float32)


def trend(ctx: FeatureContext, spec: FeatureSpec) -> np.ndarray:
    _, src, short = spec.key
    year = WINDOWS[ctx.grid.period]["Y"]
    return _with_history(ctx, _count(ctx, src, short) / short - _count(ctx, src, year) / year)


def surprise(ctx: FeatureContext, spec: FeatureSpec) -> np.ndarray:
    _, src, short = spec.key
    year = WINDOWS[ctx.grid.period]["Y"]
    recent = _count(ctx, src, short)
    expected = short * (_count(ctx, src, year) - recent) / (year - short)
    return _with_history(ctx, (recent - expected) / np.sqrt(expected + 1.0))


def yoy(ctx: FeatureContext, spec: FeatureSpec) -> np.ndarray:
    _, src, window = spec.key
    year = WINDOWS[ctx.grid.period]["Y"]
    return _with_history(ctx, _count(ctx, src, window) - _count(ctx, src, window, lag=year))


HANDLERS = {"trend": trend, "surprise": surprise, "yoy": yoy}
