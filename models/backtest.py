"""Rolling-origin backtest of the escalation model against the baselines and the oracle.

Protocol (docs/adr/0006-backtest-protocol.md): K origins t_1 < ... < t_K,
``stride`` periods apart, cover the last labelled part of the panel. At
origin t, for each horizon h, the model is fitted on every row whose label
was known when t started — row period s with s + label_offset + h <= t
(and ``label_observed_at <= t`` where the panel carries that column) — and
scores the rows of periods t .. t + stride - 1. Model, every baseline and the
oracle are scored on exactly those rows.

The horizon seam: the panel carries one ``label`` for one horizon, so the
backtest takes one panel per horizon — a mapping {h: panel} or a function
h -> panel (``panels_by_horizon`` builds them from per-period event counts).
The panels share rows and features and differ only in ``label``. Count
targets (``count_targets``, columns of the panels) must cover the same
outcome window as the label; they are trained and baselined at its lag.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.base import ClassifierMixin, clone
from sklearn.inspection import permutation_importance

from models import baselines as bl
from models.calibration import CalibratedEscalationClassifier
from models.counts import CountForecaster, poisson_interval
from models.metrics import classification_metrics, count_metrics

BASELINES = ("last", "moving_average", "long_run", "kernel", "hawkes")
ORACLE = "oracle"
MODEL = "model"
Panels = Mapping[int, pd.DataFrame] | Callable[[int], pd.DataFrame]


@dataclass(frozen=True)
class Fold:
    number: int
    origin: pd.Timestamp
    position: int  # the origin's period number, counted from the panel's first period
    test_periods: tuple[pd.Timestamp, ...]


@dataclass(frozen=True)
class BacktestResult:
    """Tidy metrics (one row per fold x horizon x scorer), the scored rows, and extras for the report."""

    metrics: pd.DataFrame
    predictions: pd.DataFrame
    count_metrics: pd.DataFrame
    importance: pd.DataFrame
    folds: list[Fold]
    feature_names: list[str]


def default_feature_names(panel: pd.DataFrame) -> list[str]:
    """``features.pipeline.feature_columns`` when importable, else every non-index, non-label column."""
    try:
        from features.pipeline.spec import feature_columns
        names = feature_columns(panel)
    except Exception:  # noqa: BLE001 - the catalogue is optional for synthetic panels
        names = []
    return names or [c for c in panel.columns if c not in ("area_id", "period_start") and not c.startswith("label")]


def panels_by_horizon(
    panel: pd.DataFrame, *, events: pd.Series, horizons: Sequence[int], label_offset: int,
) -> dict[int, pd.DataFrame]:
    """Relabel ``panel`` for each horizon from ``events`` (label events in each row's own period, NaN if unfinished).

    label_h(s) = 1 if any event in periods s + label_offset .. s + label_offset + h - 1, NaN unless all are observed.
    """
    grid = bl.to_grid(panel.assign(_events=events.to_numpy(float)), target="_events")
    padded = np.concatenate([grid.values, np.full((grid.values.shape[0], label_offset + max(horizons)), np.nan)], axis=1)
    out = {}
    for h in horizons:
        window = sum(padded[:, label_offset + j : label_offset + j + grid.values.shape[1]] for j in range(h))
        out[h] = panel.assign(label=np.where(np.isnan(window), np.nan, (window > 0).astype(float))[grid.area, grid.period])
    return out


def plan_folds(periods: pd.Series, *, folds: int, stride: int | None, last: int, start: pd.Timestamp | None, earliest: int) -> list[Fold]:
    """Origins spread over the last ``folds x stride`` labelled periods (or evenly from ``start``)."""
    starts = pd.DatetimeIndex(np.sort(periods.unique()))
    position = pd.Series(starts, index=bl.period_positions(starts))
    if start is not None:
        first = int(bl.period_positions(starts.append(pd.DatetimeIndex([start])))[-1])
        stride = (last - first + 1) // folds
    elif stride is None:
        raise ValueError("give either stride or start")
    else:
        first = last - folds * stride + 1
    if stride < 1 or first < earliest:
        raise ValueError(f"{folds} folds of {stride} periods do not fit after {earliest} training periods")
    return [Fold(number=k, origin=position[first + k * stride], position=first + k * stride,
                 test_periods=tuple(position.get(p) for p in range(first + k * stride, first + (k + 1) * stride) if p in position))
            for k in range(folds)]


def _baseline_scores(panel: pd.DataFrame, *, target: str, lag: int, adjacency: pd.DataFrame | None) -> dict[str, np.ndarray]:
    out = {"last": bl.last_known(panel, target=target, lag=lag),
           "moving_average": bl.moving_average(panel, target=target, lag=lag),
           "long_run": bl.long_run_rate(panel, target=target, lag=lag)}
    if adjacency is not None:
        out["kernel"] = bl.kernel_hotspot(panel, target=target, lag=lag, adjacency=adjacency)
    return out


def run_backtest(
    panels: Panels, *, folds: int, stride: int | None, label_offset: int, horizons: Sequence[int] = (1, 2, 3, 4),
    start: pd.Timestamp | None = None, feature_names: list[str] | None = None, estimator: ClassifierMixin | None = None,
    adjacency: pd.DataFrame | None = None, truth: pd.DataFrame | None = None, count_targets: Sequence[str] = (),
    count_estimator: CountForecaster | None = None, min_train_periods: int = 8, importance_repeats: int = 0,
    progress: Callable[[str], None] | None = None,
) -> BacktestResult:
    """Fit and score the model at every origin and horizon; score the baselines and oracle on the same rows."""
    by_h = _horizon_panels(panels, horizons=horizons)
    names = feature_names or default_feature_names(by_h[horizons[0]])
    estimator = estimator if estimator is not None else CalibratedEscalationClassifier()
    pos = bl.period_positions(by_h[horizons[0]]["period_start"])
    last = min(int(pos[p["label"].notna().to_numpy()].max()) for p in by_h.values())
    plan = plan_folds(by_h[horizons[0]]["period_start"], folds=folds, stride=stride, last=last, start=start,
                      earliest=min_train_periods + label_offset + max(horizons))
    rows, scored, counted, importance = [], [], [], pd.DataFrame()
    for h, panel in by_h.items():
        lag = bl.known_lag(horizon=h, label_offset=label_offset)
        fixed = _baseline_scores(panel, target="label", lag=lag, adjacency=adjacency)
        if truth is not None:
            fixed[ORACLE] = bl.oracle(panel, truth=truth, horizon=h, label_offset=label_offset)
        y, X = panel["label"].to_numpy(float), panel[names].to_numpy(np.float64)
        for fold in plan:
            train = (pos + lag <= fold.position) & ~np.isnan(y)  # outcome complete before the origin starts
            if "label_observed_at" in panel.columns:
                train &= (panel["label_observed_at"] <= fold.origin).to_numpy()
            test = (pos >= fold.position) & (pos < fold.position + len(fold.test_periods)) & ~np.isnan(y)
            model = clone(estimator).fit(X[train], y[train].astype(int))
            scores = {MODEL: np.full(len(panel), np.nan), **fixed,
                      "hawkes": bl.hawkes(panel, target="label", lag=lag, fit=bl.fit_hawkes(panel, target="label", lag=lag, train=train))}
            scores[MODEL][test] = model.predict_proba(X[test])[:, 1]
            frame = panel.loc[test, ["area_id", "period_start", "label"]].assign(fold=fold.number, origin=fold.origin, horizon=h)
            for name, s in scores.items():
                if np.isnan(s[test]).any():
                    raise ValueError(f"{name} has no score for some rows of fold {fold.number} (truth incomplete?)")
                frame[name] = s[test]
                rows.append({"fold": fold.number, "origin": fold.origin, "horizon": h, "scorer": name,
                             **classification_metrics(y=y[test], p=s[test], period=frame["period_start"].to_numpy())})
            scored.append(frame)
            counted += _count_rows(panel, train=train, test=test, fold=fold, horizon=h, lag=lag, names=names,
                                   targets=count_targets, estimator=count_estimator)
            if importance_repeats and fold is plan[-1] and h == horizons[0]:
                importance = _importance(model, X[test], y[test], names=names, repeats=importance_repeats)
            if progress:
                progress(f"fold {fold.number + 1}/{len(plan)} horizon {h}: trained on {int(train.sum())} rows, scored {int(test.sum())}")
    return BacktestResult(metrics=pd.DataFrame(rows), predictions=pd.concat(scored, ignore_index=True),
                          count_metrics=pd.DataFrame(counted), importance=importance, folds=plan, feature_names=names)


def _horizon_panels(panels: Panels, *, horizons: Sequence[int]) -> dict[int, pd.DataFrame]:
    """One panel per horizon, rows in time order (the calibrator's tail is the latest), same rows in each."""
    out = {h: (panels[h] if isinstance(panels, Mapping) else panels(h)) for h in horizons}
    out = {h: p.sort_values(["period_start", "area_id"], kind="stable").reset_index(drop=True) for h, p in out.items()}
    first = out[horizons[0]][["area_id", "period_start"]]
    for h, p in out.items():
        if not p[["area_id", "period_start"]].equals(first):
            raise ValueError(f"the panel for horizon {h} does not have the same (area_id, period_start) rows")
    return out


def _count_rows(panel, *, train, test, fold, horizon, lag, names, targets, estimator) -> list[dict]:
    """Count model and the count baselines (Poisson intervals) on the fold's rows, per count target."""
    out = []
    for target in targets:
        y = panel[target].to_numpy(float)
        fit_rows = train & ~np.isnan(y)
        model = clone(estimator if estimator is not None else CountForecaster()).fit(panel[names].to_numpy(np.float64)[fit_rows], y[fit_rows])
        forecasts = {MODEL: model.predict_interval(panel[names].to_numpy(np.float64)[test])}
        for name, s in _baseline_scores(panel, target=target, lag=lag, adjacency=None).items():
            forecasts[name] = (s[test], *poisson_interval(s[test]))
        for name, (mu, lower, upper) in forecasts.items():
            out.append({"fold": fold.number, "origin": fold.origin, "horizon": horizon, "target": target, "scorer": name,
                        **count_metrics(y=y[test], mu=mu, lower=lower, upper=upper)})
    return out


def _importance(model, X: np.ndarray, y: np.ndarray, *, names: list[str], repeats: int) -> pd.DataFrame:
    """Drop in average precision when each feature is shuffled, on one fold's scored rows."""
    result = permutation_importance(model, X, y.astype(int), scoring="average_precision", n_repeats=repeats, random_state=0)
    return pd.DataFrame({"feature": names, "importance": result.importances_mean, "std": result.importances_std}) \
        .sort_values("importance", ascending=False, ignore_index=True)


@dataclass(frozen=True)
class GateResult:
    passed: bool
    reasons: tuple[str, ...]
    table: pd.DataFrame  # per horizon: model AP, best baseline and its AP, predicted/observed ratio


def promotion_gates(metrics: pd.DataFrame, *, bounds: tuple[float, float] = (0.9, 1.1)) -> GateResult:
    """Refuse a version unless, at every horizon backtested, it beats the best baseline on
    average precision (mean over folds) and its mean predicted / mean observed escalations,
    pooled over the folds' rows, lies within ``bounds``."""
    reasons, table = [], []
    for h, part in metrics.groupby("horizon"):
        ap = part.groupby("scorer")["average_precision"].mean()
        base = ap[ap.index.isin(BASELINES)]
        best = str(base.idxmax()) if base.notna().any() else ""
        mine = part[part["scorer"] == MODEL]
        ratio = float((mine["mean_predicted"] * mine["rows"]).sum() / (mine["mean_observed"] * mine["rows"]).sum())
        table.append({"horizon": h, "model_ap": ap.get(MODEL, np.nan), "best_baseline": best,
                      "best_baseline_ap": base.get(best, np.nan), "predicted_to_observed": ratio})
        if not ap.get(MODEL, np.nan) > base.get(best, np.inf):
            reasons.append(f"horizon {h}: average precision {ap.get(MODEL, np.nan):.3f} does not beat {best} ({base.get(best, np.nan):.3f})")
        if not bounds[0] <= ratio <= bounds[1]:
            reasons.append(f"horizon {h}: mean predicted / observed escalations {ratio:.2f} outside {bounds[0]}-{bounds[1]}")
    return GateResult(passed=not reasons, reasons=tuple(reasons), table=pd.DataFrame(table))


def summary_table(metrics: pd.DataFrame, *, columns: Sequence[str] = ("average_precision", "roc_auc", "brier", "ece", "pai_at_5", "recall_at_5")) -> pd.DataFrame:
    """Mean over folds per horizon and scorer, with the model's ratio to the oracle where there is one."""
    table = metrics.groupby(["horizon", "scorer"], sort=False)[list(columns)].mean().reset_index()
    oracle = table[table["scorer"] == ORACLE].set_index("horizon")
    for column in ("average_precision", "pai_at_5"):
        if column in table and not oracle.empty:
            table[f"{column}_to_oracle"] = table[column] / table["horizon"].map(oracle[column])
    return table
