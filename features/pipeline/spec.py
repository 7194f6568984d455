"""The panel's contract: its index, its label column and the build specification.

Frames are checked against these constants where they enter and leave a
stage (STYLE.md habit 7), so a model never trains on a frame with a
duplicated row, an object column or a date with a time zone.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Literal
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from features.catalogue import catalogue
from features.labels import LabelSpec

INDEX = ("area_id", "period_start")
LABEL = "label"
#: Columns beside the features that a panel carries (never model inputs).
BOOKKEEPING = ("label_observed_at",)


@dataclass(frozen=True)
class PanelSpec:
    """What panel to build: period length, week start, label and local time zone.

    The time zone says which calendar day "today" is, so a build never
    creates a period that has not started yet where the records were kept.
    """

    period: Literal["week", "month"] = "week"
    week_start: Literal["monday", "sunday"] = "monday"
    label: LabelSpec = field(default_factory=LabelSpec)
    timezone: str = "Asia/Shanghai"

    def __post_init__(self) -> None:
        if self.period not in ("week", "month"):
            raise ValueError(f"period must be 'week' or 'month', not {self.period!r}")
        if self.week_start not in ("monday", "sunday"):
            raise ValueError(f"week_start must be 'monday' or 'sunday', not {self.week_start!r}")
        ZoneInfo(self.timezone)  # raises on an unknown zone

    def local_today(self) -> dt.date:
        return dt.datetime.now(ZoneInfo(self.timezone)).date()


def feature_columns(panel: pd.DataFrame) -> list[str]:
    """The panel's feature columns, in catalogue order.

    Week and month catalogues share their template order, so the month
    catalogue is used whenever a month-only name (e.g. ``_3m``) is present.
    """
    present = set(panel.columns)
    month_only = {spec.name for spec in catalogue("month")} - {spec.name for spec in catalogue("week")}
    period = "month" if present & month_only else "week"
    return [spec.name for spec in catalogue(period) if spec.name in present]


def check_panel(panel: pd.DataFrame, *, period: str | None = None) -> pd.DataFrame:
    """Raise unless ``panel`` keeps the panel contract; return it for chaining."""
    missing = [column for column in (*INDEX, LABEL) if column not in panel.columns]
    if missing:
        raise ValueError(f"panel lacks columns {missing}")
    if not isinstance(panel["area_id"].dtype, pd.CategoricalDtype) and not pd.api.types.is_string_dtype(panel["area_id"]):
        raise TypeError(f"area_id must be categorical or string, not {panel['area_id'].dtype}")
    if panel["period_start"].dtype != np.dtype("datetime64[ns]"):
        raise TypeError(f"period_start must be datetime64[ns], not {panel['period_start'].dtype}")
    if panel.duplicated(list(INDEX)).any():
        raise ValueError("panel has duplicated (area_id, period_start) rows")
    known = {spec.name for p in ("week", "month") for spec in catalogue(p)}
    extra = [c for c in panel.columns if c not in known and c not in (*INDEX, LABEL, *BOOKKEEPING)]
    if extra:
        raise ValueError(f"panel columns outside the catalogue: {extra[:10]}")
    objects = [c for c in panel.columns if panel[c].dtype == object]
    if objects:
        raise TypeError(f"object-dtype columns in the panel: {objects}")
    if panel[LABEL].dtype != np.float64:
        raise TypeError(f"label must be float64, not {panel[LABEL].dtype}")
    return panel
