"""Scoring every area of a period in one call, and storing the scores.

Bulk prediction is one to two orders of magnitude cheaper per row than
per-request prediction (FACTS.md), so the service serves stored scores.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from features.storage.tables import scores
from models.escalation import EscalationModel
from models.levels import assign_levels

TOP_REASONS = 3


def latest_period(panel: pd.DataFrame) -> pd.Timestamp:
    return pd.Timestamp(panel["period_start"].max())


def reasons_for(frame: pd.DataFrame, *, feature_names: list[str], describe: Mapping[str, str]) -> list[list[dict]]:
    """The features on which each area stands furthest above the areas of the same period.

    Expressed as robust z-scores (distance from the median in units of the
    spread), so a reason reads "well above what is typical now", never as
    a raw count that could single out a handful of people.
    """
    values = frame[feature_names].to_numpy(float)
    median = np.nanmedian(values, axis=0)
    spread = np.nanpercentile(values, 90, axis=0) - np.nanpercentile(values, 10, axis=0)
    spread = np.where(spread > 0, spread, np.nan)
    z = np.nan_to_num((values - median) / spread, nan=0.0)
    order = np.argsort(-z, axis=1)[:, :TOP_REASONS]
    result: list[list[dict]] = []
    for row, columns in zip(z, order, strict=True):
        result.append([
            {"feature": feature_names[j], "description": describe.get(feature_names[j], feature_names[j]),
             "standing": round(float(row[j]), 2)}
            for j in columns if row[j] > 0
        ])
    return result


def score_period(
    panel: pd.DataFrame, *, model: EscalationModel, period: pd.Timestamp, high: float, medium: float,
    describe: Mapping[str, str],
) -> pd.DataFrame:
    """Probability, level and reasons for every area in ``period``."""
    frame = panel[panel["period_start"] == period]
    if frame.empty:
        raise LookupError(f"the panel has no rows for period {period.date()}")
    probability = model.predict_proba(frame)
    return pd.DataFrame({
        "area_id": frame["area_id"].astype(str).to_numpy(),
        "period_start": pd.Timestamp(period).date(),
        "probability": probability,
        "level": assign_levels(probability, high=high, medium=medium),
        "reasons": reasons_for(frame, feature_names=model.feature_names, describe=describe),
    })


def write_scores(engine: Engine, frame: pd.DataFrame, *, model_version: str) -> int:
    """Replace this version's scores for the period(s) in ``frame``, in one transaction."""
    now = dt.datetime.now(dt.UTC)
    records = [
        {**row, "model_version": model_version, "scored_at": now}
        for row in frame[["area_id", "period_start", "probability", "level", "reasons"]].to_dict("records")
    ]
    periods = sorted({record["period_start"] for record in records})
    with engine.begin() as connection:
        connection.execute(
            scores.delete().where(scores.c.model_version == model_version, scores.c.period_start.in_(periods))
        )
        for start in range(0, len(records), 5000):
            connection.execute(scores.insert(), records[start : start + 5000])
    return len(records)


def scored_periods(engine: Engine, *, model_version: str) -> list[dt.date]:
    with engine.connect() as connection:
        rows = connection.execute(
            sa.select(scores.c.period_start).where(scores.c.model_version == model_version).distinct()
        )
        return sorted(row[0] for row in rows)
