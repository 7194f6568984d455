"""Training the escalation model, with an honest out-of-time check.

The model is first fitted on all but the last ``holdout_periods`` periods
and scored on them beside a simple baseline (each area's long-run rate), so
every registered version carries figures a sceptic can compare; then it is
refitted on every labelled row for serving.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score

from models.escalation import EscalationModel, make_estimator

INDEX = ("area_id", "period_start")
LABEL = "label"


class TrainingFailed(RuntimeError):
    """The panel cannot support a model (too few rows, one class only, …)."""


@dataclass(frozen=True)
class TrainResult:
    model: EscalationModel
    metrics: dict[str, float]
    manifest: dict[str, Any]


def panel_hash(panel: pd.DataFrame, columns: list[str]) -> str:
    """A fingerprint of the data a model saw, for its manifest."""
    hashed = pd.util.hash_pandas_object(panel[list(INDEX) + columns + [LABEL]], index=False).to_numpy()
    return hashlib.sha256(hashed.tobytes()).hexdigest()


def labelled_rows(panel: pd.DataFrame) -> pd.DataFrame:
    missing = [column for column in (*INDEX, LABEL) if column not in panel.columns]
    if missing:
        raise TrainingFailed(f"panel lacks required columns: {', '.join(missing)}")
    return panel[panel[LABEL].notna()]


def holdout_metrics(y: np.ndarray, p: np.ndarray) -> dict[str, float]:
    both = len(np.unique(y)) == 2
    return {
        "average_precision": float(average_precision_score(y, p)) if both else float("nan"),
        "roc_auc": float(roc_auc_score(y, p)) if both else float("nan"),
        "brier": float(brier_score_loss(y, p)),
        "predicted_to_observed": float(p.mean() / y.mean()) if y.mean() > 0 else float("nan"),
        "rows": float(len(y)),
        "positives": float(y.sum()),
    }


def long_run_rate(train: pd.DataFrame, target: pd.DataFrame) -> np.ndarray:
    """The baseline: each area's escalation rate over the training periods."""
    overall = float(train[LABEL].mean())
    by_area = train.groupby("area_id", observed=True)[LABEL].mean()
    return target["area_id"].map(by_area).astype(float).fillna(overall).to_numpy()


def train_escalation(
    panel: pd.DataFrame, *, feature_names: list[str], seed: int = 0, holdout_periods: int = 8,
    catalogue_hash: str = "",
) -> TrainResult:
    """Fit, check on the last periods against the baseline, refit on everything."""
    rows = labelled_rows(panel)
    periods = np.sort(rows["period_start"].unique())
    if len(periods) <= holdout_periods + 4:
        raise TrainingFailed(
            f"need more than {holdout_periods + 4} labelled periods to train and check a model, have {len(periods)}"
        )
    y_all = rows[LABEL].to_numpy(dtype=int)
    if len(np.unique(y_all)) < 2:
        raise TrainingFailed("every labelled row has the same outcome; nothing to learn")
    cut = periods[-holdout_periods]
    train, holdout = rows[rows["period_start"] < cut], rows[rows["period_start"] >= cut]

    check = make_estimator(seed=seed).fit(train[feature_names].to_numpy(float), train[LABEL].to_numpy(int))
    y_hold = holdout[LABEL].to_numpy(int)
    metrics = {f"model_{k}": v for k, v in holdout_metrics(y_hold, check.predict_proba(holdout[feature_names].to_numpy(float))[:, 1]).items()}
    metrics |= {f"baseline_{k}": v for k, v in holdout_metrics(y_hold, long_run_rate(train, holdout)).items()}

    final = make_estimator(seed=seed).fit(rows[feature_names].to_numpy(float), y_all)
    window = (str(pd.Timestamp(periods[0]).date()), str(pd.Timestamp(periods[-1]).date()))
    model = EscalationModel(estimator=final, feature_names=list(feature_names), training_window=window)
    manifest = {
        "kind": "escalation",
        "estimator": type(final).__name__,
        "training_window": list(window),
        "holdout_from": str(pd.Timestamp(cut).date()),
        "feature_names": list(feature_names),
        "catalogue_hash": catalogue_hash,
        "data_hash": panel_hash(rows, feature_names),
        "rows": int(len(rows)),
        "positive_rate": float(y_all.mean()),
        "seed": seed,
        "metrics": metrics,
    }
    return TrainResult(model=model, metrics=metrics, manifest=manifest)
