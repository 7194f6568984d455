"""Scoring every area of a period in one call, with reasons and expected counts, and storing the scores.

Bulk prediction is one to two orders of magnitude cheaper per row than
per-request prediction (FACTS.md), so the service serves stored scores.
Reasons are per-score feature contributions (models/explain.py) in words;
a count below ``suppression_k`` is never shown (DESIGN.md principle 3).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from features.storage.tables import scores
from models.escalation import EscalationModel
from models.explain import is_count_feature, own_year_rate, probability_contributions, reason_text
from models.levels import assign_levels
from models.targets import HISTORY_TEXT, latest_recorded_period

TOP_REASONS = 3


@dataclass(frozen=True)
class Explained:
    """One period's rows, probabilities and per-feature contributions (probability points)."""

    frame: pd.DataFrame
    probability: np.ndarray
    contributions: np.ndarray
    base: float


def latest_period(panel: pd.DataFrame) -> pd.Timestamp:
    """The latest period whose records were kept (models.targets.latest_recorded_period)."""
    return latest_recorded_period(panel)


def robust_standing(frame: pd.DataFrame, feature_names: list[str]) -> np.ndarray:
    """Distance of each value from the period's median in units of its 10-90% spread."""
    values = frame[feature_names].to_numpy(float)
    median = np.nanmedian(values, axis=0) if len(values) else np.zeros(len(feature_names))
    spread = np.nanpercentile(values, 90, axis=0) - np.nanpercentile(values, 10, axis=0)
    spread = np.where(spread > 0, spread, np.nan)
    return np.nan_to_num((values - median) / spread, nan=0.0)


def reasons_for(frame: pd.DataFrame, *, feature_names: list[str], describe: Mapping[str, str]) -> list[list[dict]]:
    """The features on which each area stands furthest above the areas of the same period (robust z)."""
    z = robust_standing(frame, feature_names)
    order = np.argsort(-z, axis=1)[:, :TOP_REASONS]
    return [[{"feature": feature_names[j], "description": describe.get(feature_names[j], feature_names[j]),
              "standing": round(float(row[j]), 2)} for j in columns if row[j] > 0]
            for row, columns in zip(z, order, strict=True)]


def explain_period(panel: pd.DataFrame, *, model: EscalationModel, period: pd.Timestamp) -> Explained:
    """Probabilities and contributions for every area of ``period`` (``panel`` already prepared)."""
    frame = panel[panel["period_start"] == period]
    if frame.empty:
        raise LookupError(f"the panel has no rows for period {pd.Timestamp(period).date()}")
    contributions, probability, base = probability_contributions(model.estimator, model.matrix(frame))
    return Explained(frame=frame, probability=probability, contributions=contributions, base=base)


def contribution_reasons(
    explained: Explained, *, feature_names: list[str], describe: Mapping[str, str], suppression_k: int,
    top: int = TOP_REASONS,
) -> list[list[dict]]:
    """The ``top`` features that raised each score most, in words; values below k suppressed."""
    frame, parts = explained.frame, explained.contributions
    words = {**HISTORY_TEXT, **describe}
    values = frame[feature_names].to_numpy(float)
    typical = np.nanmedian(values, axis=0) if len(values) else np.zeros(len(feature_names))
    standing = robust_standing(frame, feature_names)
    own = {j: own_year_rate(frame, name) for j, name in enumerate(feature_names)}
    out = []
    for i in range(len(frame)):
        order = [j for j in np.argsort(-parts[i])[:top] if parts[i, j] > 0]
        reasons = []
        for j in order:
            name = feature_names[j]
            rate = own[j][i] if own[j] is not None else None
            reasons.append({
                "feature": name, "description": words.get(name, name), "standing": round(float(standing[i, j]), 2),
                "contribution": round(float(parts[i, j]), 5),
                "text": reason_text(feature=name, value=float(values[i, j]), typical=float(typical[j]), own_rate=rate,
                                    points=float(parts[i, j]), describe=words, is_count=is_count_feature(name),
                                    suppression_k=suppression_k),
            })
        out.append(reasons)
    return out


def score_period(
    panel: pd.DataFrame, *, model: EscalationModel, period: pd.Timestamp, high: float, medium: float,
    describe: Mapping[str, str], suppression_k: int = 5,
) -> pd.DataFrame:
    """Probability, level, reasons and expected counts for every area in ``period``."""
    explained = explain_period(model.prepare(panel), model=model, period=period)
    return frame_of(explained, model=model, high=high, medium=medium, describe=describe, suppression_k=suppression_k)


def frame_of(explained: Explained, *, model: EscalationModel, high: float, medium: float, describe: Mapping[str, str],
             suppression_k: int) -> pd.DataFrame:
    frame = explained.frame
    return pd.DataFrame({
        "area_id": frame["area_id"].astype(str).to_numpy(),
        "period_start": pd.Timestamp(frame["period_start"].iloc[0]).date(),
        "probability": explained.probability,
        "level": assign_levels(explained.probability, high=high, medium=medium),
        "reasons": contribution_reasons(explained, feature_names=model.feature_names, describe=describe,
                                        suppression_k=suppression_k),
        "expected": model.expected_counts(frame),
    })


def write_scores(engine: Engine, frame: pd.DataFrame, *, model_version: str) -> int:
    """Replace this version's scores for the period(s) in ``frame``, in one transaction."""
    now = dt.datetime.now(dt.UTC)
    columns = ["area_id", "period_start", "probability", "level", "reasons"] + (["expected"] if "expected" in frame else [])
    records = [
        {**row, "probability": float(row["probability"]), "model_version": model_version, "scored_at": now}
        for row in frame[columns].to_dict("records")
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
