"""Vectorised date parsing for the three formats of Chinese government exports.

``2012-03-31``, ``2012/3/31`` and ``2012年3月31日`` may be mixed within one
column (records merged from several offices). A time of day after the date
(``2012/3/31 0:00`` from a spreadsheet) is accepted and dropped: records are
dated by day. The common ISO case takes the fast path; only the rest goes
through a regular expression.
"""

from __future__ import annotations

import pandas as pd

from features.ingest.read import TEXT

DATE_PATTERN = (
    r"^(?P<year>\d{4})\s*[-/.年]\s*(?P<month>\d{1,2})\s*[-/.月]\s*(?P<day>\d{1,2})\s*日?"
    r"(?:[ T]+\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$"
)


def parse_dates(series: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Return (dates as ``datetime64[ns]`` at midnight, mask of present-but-unparseable cells).

    Missing cells stay ``NaT`` and are not flagged: whether they may be
    missing is the contract's business, not the parser's.
    """
    if pd.api.types.is_datetime64_any_dtype(series):
        dates = series.dt.tz_localize(None) if getattr(series.dt, "tz", None) is not None else series
        dates = dates.astype("datetime64[ns]").dt.normalize()
        return dates, pd.Series(False, index=series.index)
    text = series.astype(TEXT).str.strip()
    text = text.mask(text == "")
    present = text.notna()
    parsed = pd.to_datetime(text, format="%Y-%m-%d", errors="coerce")
    rest = present & parsed.isna()
    if rest.any():
        parts = text[rest].str.extract(DATE_PATTERN)
        numbers = parts.apply(pd.to_numeric, errors="coerce")
        valid = numbers.notna().all(axis=1)
        if valid.any():
            parsed.loc[numbers.index[valid]] = pd.to_datetime(numbers[valid], errors="coerce")
    parsed = parsed.astype("datetime64[ns]")
    return parsed, (present & parsed.isna()).fillna(False).astype(bool)


def format_date(value: pd.Timestamp) -> str:
    return "" if pd.isna(value) else value.strftime("%Y-%m-%d")
