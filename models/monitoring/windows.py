"""Which periods a drift check compares: the serving model's reference window and the latest periods.

The current window is the last ``current`` periods up to the period asked
for. The reference window is taken from what the serving model learnt
from (periods up to the end of its training data, never overlapping the
current window), and, when the model's data reaches back that far, from the
same season a year earlier: ``reference`` periods centred one year before
the current window. Dispute records are strongly seasonal (wage arrears
before the Spring Festival, land disputes in the construction season), so
comparing January with the preceding summer would report the calendar as
drift. With less than a year of data the reference is the ``reference``
periods just before the current window (or the model's data end).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd


class DriftCannotRun(RuntimeError):
    """The panel or the model leaves nothing to compare (the message says what is missing)."""


@dataclass(frozen=True)
class Windows:
    reference: tuple[pd.Timestamp, pd.Timestamp]
    current: tuple[pd.Timestamp, pd.Timestamp]
    reference_periods: int
    current_periods: int
    seasonal: bool

    def as_dict(self) -> dict[str, object]:
        return {"reference": [str(d.date()) for d in self.reference], "current": [str(d.date()) for d in self.current],
                "seasonal_reference": self.seasonal}


def choose_windows(
    starts: pd.Series, *, reference: int, current: int, training_end: pd.Timestamp | None, period: pd.Timestamp | None,
    periods_per_year: int = 52,
) -> Windows:
    """Reference and current windows over the panel's period starts (see the module docstring)."""
    periods = pd.DatetimeIndex(np.sort(pd.unique(starts)))
    if period is not None:
        if pd.Timestamp(period) not in periods:
            raise DriftCannotRun(f"period {pd.Timestamp(period).date()} is not a period of the panel "
                                 f"({periods[0].date()} .. {periods[-1].date()})")
        periods = periods[periods <= pd.Timestamp(period)]
    if len(periods) < current + 2:
        raise DriftCannotRun(f"the panel has {len(periods)} periods up to the one asked for; "
                             f"need at least {current + 2} for {current} current periods and a reference")
    cur = periods[-current:]
    allowed = periods[:-current]
    if training_end is not None:
        allowed = allowed[allowed <= pd.Timestamp(training_end)]
    centre = len(periods) - current - periods_per_year + (current - reference) // 2  # same season, a year back
    seasonal = (centre >= 0 and centre + reference <= len(periods) and len(allowed) > 0
                and periods[centre + reference - 1] <= allowed[-1])
    ref = periods[centre: centre + reference] if seasonal else allowed[-reference:]
    if len(ref) < 2:
        raise DriftCannotRun(
            f"fewer than 2 reference periods end by the serving model's training end ({pd.Timestamp(training_end).date()}) "
            f"and before the current window ({cur[0].date()})" if training_end is not None
            else f"fewer than 2 periods precede the current window ({cur[0].date()})")
    return Windows(reference=(ref[0], ref[-1]), current=(cur[0], cur[-1]), reference_periods=len(ref),
                   current_periods=len(cur), seasonal=bool(seasonal))
