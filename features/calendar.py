"""Calendar facts shared by the simulator and the feature pipelines.

Periods are calendar weeks (starting on a configured weekday) or calendar
months, identified by the date they start. The Spring Festival moves with
the lunar calendar, so its dates are tabulated rather than computed.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

import numpy as np
import pandas as pd

Period = Literal["week", "month"]
WeekStart = Literal["monday", "sunday"]

# Chinese New Year's Day (春节), Gregorian dates.
SPRING_FESTIVAL: dict[int, dt.date] = {
    year: dt.date.fromisoformat(day)
    for year, day in {
        2008: "2008-02-07", 2009: "2009-01-26", 2010: "2010-02-14", 2011: "2011-02-03",
        2012: "2012-01-23", 2013: "2013-02-10", 2014: "2014-01-31", 2015: "2015-02-19",
        2016: "2016-02-08", 2017: "2017-01-28", 2018: "2018-02-16", 2019: "2019-02-05",
        2020: "2020-01-25", 2021: "2021-02-12", 2022: "2022-02-01", 2023: "2023-01-22",
        2024: "2024-02-10", 2025: "2025-01-29", 2026: "2026-02-17", 2027: "2027-02-06",
        2028: "2028-01-26", 2029: "2029-02-13", 2030: "2030-02-03", 2031: "2031-01-23",
        2032: "2032-02-11", 2033: "2033-01-31", 2034: "2034-02-19", 2035: "2035-02-08",
        2036: "2036-01-28", 2037: "2037-02-15", 2038: "2038-02-04", 2039: "2039-01-24",
        2040: "2040-02-12",
    }.items()
}
_FESTIVALS = np.array(sorted(SPRING_FESTIVAL.values()), dtype="datetime64[D]")


def days_to_spring_festival(dates: pd.Series | pd.DatetimeIndex) -> np.ndarray:
    """Days from each date to the next Spring Festival (0 on the day itself)."""
    days = pd.DatetimeIndex(dates).values.astype("datetime64[D]")
    if days.size and (days.min() < _FESTIVALS[0] or days.max() > _FESTIVALS[-1]):
        raise ValueError(
            f"dates must lie between {_FESTIVALS[0]} and {_FESTIVALS[-1]} (the tabulated Spring Festivals)"
        )
    nxt = _FESTIVALS[np.searchsorted(_FESTIVALS, days, side="left")]
    return (nxt - days).astype(int)


def period_start(dates: pd.Series | pd.DatetimeIndex, period: Period, week_start: WeekStart = "monday") -> pd.DatetimeIndex:
    """The start of the period containing each date (midnight, no time zone)."""
    days = pd.DatetimeIndex(dates).normalize()
    if period == "month":
        return days.to_period("M").to_timestamp()
    offset = days.dayofweek if week_start == "monday" else (days.dayofweek + 1) % 7
    return days - pd.to_timedelta(offset, unit="D")


def start_of_period(day: dt.date, period: Period, week_start: WeekStart = "monday") -> dt.date:
    """The start of the period holding one date, in plain dates (any year, unlike nanosecond timestamps)."""
    if period == "month":
        return day.replace(day=1)
    offset = day.weekday() if week_start == "monday" else (day.weekday() + 1) % 7
    return day - dt.timedelta(days=offset)


def period_range(first: dt.date, last: dt.date, period: Period, week_start: WeekStart = "monday") -> pd.DatetimeIndex:
    """Every period start from the period holding ``first`` to the one holding ``last``."""
    start = start_of_period(first, period, week_start)
    end = start_of_period(last, period, week_start)
    if period == "month":
        return pd.date_range(start, end, freq="MS")
    return pd.date_range(start, end, freq="7D")
