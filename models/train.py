"""Training the escalation model and its count forecasts, with an honest out-of-time check.

The classifier is the calibrated gradient boosting of models/calibration.py
(booster on the earlier rows, calibrator on the latest; rows are sorted by
``period_start`` here so "latest" means latest in time). It is first fitted
on all but the last ``holdout_periods`` periods and scored on them beside a
simple baseline (each area's long-run rate), so every version carries
figures a sceptic can compare at a glance; then it is refitted on every
labelled row for serving. The rolling-origin backtest and the promotion
gates are run by ``models.evaluate`` (docs/adr/0008-model-layer.md).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score

from features.labels import LABEL_OFFSET
from features.pipeline.spec import INDEX, LABEL
from models.escalation import CountModel, EscalationModel, make_count_estimator, make_estimator
from models.targets import HISTORY, add_history, catalogue_targets, count_targets, trim_unrecorded_tail

#: Count models train on at most this many of the latest labelled rows (cost grows with rows x targets).
COUNT_ROWS = 400_000


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


def panel_horizon(panel: pd.DataFrame) -> int:
    """Periods the label looks ahead, read from ``label_observed_at`` when the panel has it (else 1)."""
    if "label_observed_at" not in panel.columns or panel.empty:
        return 1
    row = panel.iloc[0]
    days = (pd.Timestamp(row["label_observed_at"]) - pd.Timestamp(row["period_start"])).days
    steps = round(days / 7) if days % 7 == 0 else round(days / 30.4)
    return max(1, steps - LABEL_OFFSET)


def prepare(panel: pd.DataFrame, *, feature_names: list[str], history: bool, lag: int) -> tuple[pd.DataFrame, list[str]]:
    """Time-ordered rows, unrecorded tail unlabelled, label-history features added."""
    panel = trim_unrecorded_tail(panel).sort_values(["period_start", "area_id"], kind="stable").reset_index(drop=True)
    if history:
        return add_history(panel, lag=lag), [*feature_names, *HISTORY]
    return panel, list(feature_names)


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


def fit_counts(panel: pd.DataFrame, *, names: list[str], seed: int, progress: Callable[[str], None] | None = None) -> list[CountModel]:
    """One Poisson-mean + quantile-interval forecaster per count target the panel supports."""
    targets = catalogue_targets(panel)
    if not targets:
        return []
    ys = count_targets(panel, targets)
    X = panel[names].to_numpy(np.float64)
    out = []
    for i, target in enumerate(targets, start=1):
        y = ys[target.name].to_numpy(float)
        rows = np.flatnonzero(~np.isnan(y))[-COUNT_ROWS:]
        if len(rows) < 50 or not y[rows].sum() > 0:
            continue  # too few rows, or a family this panel never saw
        estimator = clone(make_count_estimator(seed=seed)).fit(X[rows], y[rows])
        out.append(CountModel(target=target, estimator=estimator))
        if progress:
            progress(f"count model {i}/{len(targets)}: {target.description}")
    return out


def train_escalation(
    panel: pd.DataFrame, *, feature_names: list[str], seed: int = 0, holdout_periods: int = 8,
    catalogue_hash: str = "", history: bool = True, counts: bool = True,
    progress: Callable[[str], None] | None = None,
) -> TrainResult:
    """Fit, check on the last periods against the baseline, refit on everything, fit the count models."""
    started = time.perf_counter()
    horizon = panel_horizon(panel)
    panel, names = prepare(panel, feature_names=feature_names, history=history, lag=LABEL_OFFSET + horizon)
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
    if train[LABEL].nunique() < 2:
        raise TrainingFailed("the periods before the holdout hold one outcome only; nothing to learn")

    if progress:
        progress(f"holdout check: fitting on {len(train):,} rows before {pd.Timestamp(cut).date()}")
    check = make_estimator(seed=seed, positives=int(train[LABEL].sum()), rows=len(train)).fit(train[names].to_numpy(float), train[LABEL].to_numpy(int))
    y_hold = holdout[LABEL].to_numpy(int)
    metrics = {f"model_{k}": v for k, v in holdout_metrics(y_hold, check.predict_proba(holdout[names].to_numpy(float))[:, 1]).items()}
    metrics |= {f"baseline_{k}": v for k, v in holdout_metrics(y_hold, long_run_rate(train, holdout)).items()}

    if progress:
        progress(f"fitting the serving model on {len(rows):,} rows")
    final = make_estimator(seed=seed, positives=int(y_all.sum()), rows=len(rows)).fit(rows[names].to_numpy(float), y_all)
    count_models = fit_counts(panel, names=names, seed=seed, progress=progress) if counts else []
    window = (str(pd.Timestamp(periods[0]).date()), str(pd.Timestamp(periods[-1]).date()))
    model = EscalationModel(estimator=final, feature_names=names, training_window=window,
                            history_lag=LABEL_OFFSET + horizon if history else None, counts=count_models)
    manifest = {
        "kind": "escalation",
        "estimator": type(final).__name__,
        "estimator_params": {k: v for k, v in final.get_params().items() if isinstance(v, int | float | str)},
        "calibration": {"method": final.method_, "rows": int(final.calibration_rows_)},
        "label": {"horizon": horizon, "label_offset": LABEL_OFFSET},
        "training_window": list(window),
        "holdout_from": str(pd.Timestamp(cut).date()),
        "feature_names": names,
        "catalogue_hash": catalogue_hash,
        "data_hash": panel_hash(rows, names),
        "rows": int(len(rows)),
        "positive_rate": float(y_all.mean()),
        "seed": seed,
        "metrics": metrics,
        "count_targets": [{"name": c.target.name, "window": c.target.window, "description": c.target.description}
                          for c in count_models],
        "training_seconds": round(time.perf_counter() - started, 1),
    }
    return TrainResult(model=model, metrics=metrics, manifest=manifest)
