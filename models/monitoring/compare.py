"""Champion against challenger on the same most recent folds, and the promotion decision.

At each rolling origin t (the last ``folds`` origins, ``stride`` periods
apart, as in docs/adr/0006) both are fitted on the rows whose outcome was
known when t started and scored on the same rows of t .. t + stride - 1:

- the challenger: the current training recipe, on every such row;
- the champion: at origins by which every outcome it learnt from was
  known, the frozen artifact itself — the model that actually served, with
  whatever its data was; at earlier origins, its own estimator settings and
  feature list (``sklearn.clone`` of the artifact's estimator) fitted on the
  rows known then, cut at the end of its training window — what the same
  recipe would have learnt from the same data.

Neither side ever sees an outcome of the rows it is scored on; both are
scored against the panel's labels, whatever labels the challenger learnt
from. The challenger is promoted only if its mean average precision beats
the champion's by ``margin`` and its mean ECE is not worse by more than
``calibration_tolerance``. Each area's long-run rate is scored on the same
rows for the report (whether either beats the simple baselines is the
registry's gate, docs/adr/0008). Without a champion (first run, or a champion needing features the panel no
longer has) the long-run rate stands in for it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.base import clone

from features.labels import LABEL_OFFSET
from features.pipeline.spec import LABEL
from models import baselines as bl
from models.backtest import plan_folds
from models.escalation import EscalationModel, make_estimator
from models.evaluate import MIN_TRAIN_PERIODS
from models.metrics import classification_metrics

CHALLENGER, CHAMPION, BASELINE = "challenger", "champion", "long_run"
#: Labels a challenger learns from, given the prepared panel (default: the panel's own).
TrainingLabels = Callable[[pd.DataFrame], np.ndarray]


@dataclass(frozen=True)
class ComparisonPlan:
    folds: int = 3
    stride: int = 4
    margin: float = 0.005
    calibration_tolerance: float = 0.0

    def __post_init__(self) -> None:
        if self.folds < 1 or self.stride < 1:
            raise ValueError(f"comparison folds and stride must be at least 1 (folds={self.folds}, stride={self.stride})")
        if not 0 <= self.margin < 1 or not 0 <= self.calibration_tolerance < 1:
            raise ValueError(f"promotion margin ({self.margin}) and calibration tolerance "
                             f"({self.calibration_tolerance}) must lie in [0, 1)")


@dataclass(frozen=True)
class Champion:
    version: str
    model: EscalationModel
    training_end: pd.Timestamp


@dataclass(frozen=True)
class Comparison:
    metrics: pd.DataFrame  # fold, origin, scorer, classification metrics
    predictions: pd.DataFrame  # area_id, period_start, fold, label, one column per scorer
    means: pd.DataFrame  # per scorer: mean over folds
    promote: bool
    reasons: tuple[str, ...]
    champion_version: str | None

    def mean(self, scorer: str, metric: str) -> float:
        return float(self.means.loc[scorer, metric]) if scorer in self.means.index else float("nan")


def compare(
    prepared: pd.DataFrame, *, names: list[str], champion: Champion | None, plan: ComparisonPlan, seed: int,
    horizon: int = 1, training_labels: TrainingLabels | None = None, progress: Callable[[str], None] = lambda m: None,
) -> Comparison:
    """Fit and score both sides at every origin (``prepared``: time-ordered, history features added)."""
    y = prepared[LABEL].to_numpy(float)
    y_fit = y if training_labels is None else np.asarray(training_labels(prepared), float)
    pos = bl.period_positions(prepared["period_start"])
    lag = bl.known_lag(horizon=horizon, label_offset=LABEL_OFFSET)
    last = int(pos[~np.isnan(y)].max())
    folds = plan_folds(prepared["period_start"], folds=plan.folds, stride=plan.stride, last=last, start=None,
                       earliest=MIN_TRAIN_PERIODS + lag)
    usable = champion is not None and all(n in prepared.columns for n in champion.model.feature_names)
    long_run = bl.long_run_rate(prepared, target=LABEL, lag=lag)
    X = prepared[names].to_numpy(np.float64)
    Xc = prepared[champion.model.feature_names].to_numpy(np.float64) if usable else None
    frozen_from = _frozen_from(prepared, champion=champion, lag=lag) if usable else None
    rows, scored = [], []
    for fold in folds:
        train = (pos + lag <= fold.position) & ~np.isnan(y) & ~np.isnan(y_fit)
        if "label_observed_at" in prepared.columns:
            train &= (prepared["label_observed_at"] <= fold.origin).to_numpy()
        test = (pos >= fold.position) & (pos < fold.position + len(fold.test_periods)) & ~np.isnan(y)
        scores = {CHALLENGER: _fit_predict(make_estimator(seed=seed, positives=int(y_fit[train].sum()), rows=int(train.sum())),
                                           X[train], y_fit[train], X[test]),
                  BASELINE: long_run[test]}
        if usable and frozen_from is not None and fold.position >= frozen_from:
            scores[CHAMPION] = champion.model.estimator.predict_proba(Xc[test])[:, 1]  # the model that served
        elif usable:
            mine = train & (prepared["period_start"] <= champion.training_end).to_numpy()
            scores[CHAMPION] = _fit_predict(clone(champion.model.estimator), Xc[mine], y[mine], Xc[test])
        frame = prepared.loc[test, ["area_id", "period_start", LABEL]].assign(fold=fold.number, **scores)
        scored.append(frame)
        for name, s in scores.items():
            rows.append({"fold": fold.number, "origin": fold.origin, "horizon": horizon, "scorer": name,
                         **classification_metrics(y=y[test], p=s, period=frame["period_start"].to_numpy())})
        progress(f"comparison fold {fold.number + 1}/{len(folds)}: {int(train.sum()):,} training rows, {int(test.sum()):,} scored")
    metrics = pd.DataFrame(rows)
    means = metrics.groupby("scorer")[["average_precision", "ece", "brier", "roc_auc"]].mean()
    promote, reasons = decide(means, plan=plan, champion=CHAMPION if usable else BASELINE)
    if champion is not None and not usable:
        missing = [n for n in champion.model.feature_names if n not in prepared.columns]
        note = (f"champion {champion.version} needs features the panel lacks ({', '.join(missing[:5])}); "
                "judged against the long-run rate instead")
        reasons = (note, *reasons)
    return Comparison(metrics=metrics, predictions=pd.concat(scored, ignore_index=True), means=means, promote=promote,
                      reasons=reasons, champion_version=champion.version if usable else None)


def _frozen_from(prepared: pd.DataFrame, *, champion: Champion, lag: int) -> int | None:
    """The first origin (period number) at which every row the champion learnt from had its outcome known."""
    starts = prepared["period_start"]
    seen = (starts <= champion.training_end).to_numpy()
    if not seen.any():
        return None
    return int(bl.period_positions(starts)[seen].max()) + lag


def _fit_predict(estimator, X_train: np.ndarray, y_train: np.ndarray, X_test: np.ndarray) -> np.ndarray:
    if len(np.unique(y_train)) < 2:
        raise ValueError("a comparison fold's training rows hold one outcome only; use fewer folds or a longer panel")
    return estimator.fit(X_train, y_train.astype(int)).predict_proba(X_test)[:, 1]


def decide(means: pd.DataFrame, *, plan: ComparisonPlan, champion: str) -> tuple[bool, tuple[str, ...]]:
    """(promote?, why) from mean metrics over the folds; ``champion`` names the scorer to beat."""
    ap_new, ap_old = means.loc[CHALLENGER, "average_precision"], means.loc[champion, "average_precision"]
    ece_new, ece_old = means.loc[CHALLENGER, "ece"], means.loc[champion, "ece"]
    reasons = []
    if not ap_new >= ap_old + plan.margin:
        reasons.append(f"average precision {ap_new:.4f} does not beat the {champion}'s {ap_old:.4f} by the margin {plan.margin:g}")
    if not ece_new <= ece_old + plan.calibration_tolerance:
        reasons.append(f"calibration is worse: ECE {ece_new:.4f} against the {champion}'s {ece_old:.4f} "
                       f"(tolerance {plan.calibration_tolerance:g})")
    if not reasons:
        why = (f"average precision {ap_new:.4f} beats the {champion}'s {ap_old:.4f} by {ap_new - ap_old:+.4f} "
               f"(margin {plan.margin:g}); ECE {ece_new:.4f} vs {ece_old:.4f}")
        return True, (why,)
    return False, tuple(reasons)
