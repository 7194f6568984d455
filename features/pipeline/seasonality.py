"""Seasonality: the time of year, and the run-up to the Spring Festival.

Wage-arrears disputes peak before the Spring Festival, when migrant workers
want to go home paid; the festival moves with the lunar calendar, so the
distance to it is a feature of its own beside the week of the year.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from features.calendar import SPRING_FESTIVAL, days_to_spring_festival
from features.catalogue import FeatureSpec
from features.pipeline.context import FeatureContext


def season(ctx: FeatureContext, spec: FeatureSpec) -> np.ndarray:
    starts = ctx.grid.periods[ctx.lo : ctx.hi]
    what = spec.key[1]
    if what == "period_of_year":
        row = starts.isocalendar().week.to_numpy() if ctx.grid.period == "week" else starts.month.to_numpy()
    elif what == "month":
        row = starts.month.to_numpy()
    else:
        first, last = min(SPRING_FESTIVAL.values()), max(SPRING_FESTIVAL.values())
        inside = (starts >= pd.Timestamp(first)) & (starts <= pd.Timestamp(last))
        row = np.full(len(starts), np.nan)
        row[inside] = days_to_spring_festival(starts[inside])
    return np.broadcast_to(np.asarray(row, dtype=np.float32), ctx.shape).copy()


HANDLERS = {"season": season}
