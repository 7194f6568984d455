"""The backtest a version is judged by, and the gates that decide whether it may serve.

Training runs the rolling-origin backtest itself (docs/adr/0008-model-layer.md):
a version's gates are then computed on exactly the estimator, features and
data it was trained with, and no stale or mismatched earlier backtest can
vouch for it. ``concord backtest`` runs the same function over horizons
1-4 with the report; training backtests the horizon it serves.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from features.labels import LABEL_OFFSET
from models import baselines as bl
from models.backtest import BacktestResult, GateResult, panels_by_horizon, promotion_gates, run_backtest, summary_table
from models.escalation import make_count_estimator, make_estimator
from models.targets import HISTORY, add_history, catalogue_targets, count_targets, horizon_events
from models.train import panel_horizon, prepare

GATE_BOUNDS = (0.9, 1.1)
MIN_TRAIN_PERIODS = 8


@dataclass(frozen=True)
class BacktestPlan:
    """Rolling origins: ``folds`` origins ``stride`` periods apart (or spread evenly from ``start``)."""

    folds: int = 4
    stride: int = 8
    start: pd.Timestamp | None = None
    horizons: tuple[int, ...] | None = None  # None: the horizon the panel's label serves
    importance_repeats: int = 0


def fit_stride(labelled_periods: int, *, plan: BacktestPlan, max_horizon: int) -> int:
    """The plan's stride, shortened so that the folds fit after the minimum training periods."""
    room = labelled_periods - MIN_TRAIN_PERIODS - LABEL_OFFSET - max_horizon
    stride = min(plan.stride, room // plan.folds)
    if stride < 1:
        raise ValueError(f"{labelled_periods} labelled periods are too few for {plan.folds} backtest folds")
    return stride


def backtest(
    panel: pd.DataFrame, *, feature_names: list[str], plan: BacktestPlan = BacktestPlan(), seed: int = 0,
    history: bool = True, truth: pd.DataFrame | None = None, adjacency: pd.DataFrame | None = None,
    counts: bool = True, progress: Callable[[str], None] | None = None,
) -> BacktestResult:
    """Rolling-origin backtest of the training recipe (same estimator, history features, count targets)."""
    served = panel_horizon(panel)
    horizons = tuple(plan.horizons or (served,))
    base, names = prepare(panel, feature_names=feature_names, history=False, lag=LABEL_OFFSET + served)
    if truth is not None:  # score only where the oracle knows the truth
        base = base[base["period_start"] <= pd.Timestamp(truth["period_start"].max())].reset_index(drop=True)
    if horizons == (served,):
        by_h = {served: base}
    else:
        by_h = panels_by_horizon(base, events=horizon_events(base, horizon=served, label_offset=LABEL_OFFSET),
                                 horizons=horizons, label_offset=LABEL_OFFSET)
    targets = [t for t in catalogue_targets(base) if t.window == 1] if counts else []
    ys = count_targets(base, targets) if targets else pd.DataFrame(index=base.index)
    for h, frame in by_h.items():
        frame = frame.assign(**{f"count_{c}": ys[c].to_numpy() for c in ys.columns})
        by_h[h] = add_history(frame, lag=LABEL_OFFSET + h) if history else frame
    features = [*names, *HISTORY] if history else names
    labelled = int(bl.period_positions(base["period_start"])[base["label"].notna().to_numpy()].max()) + 1
    stride = None if plan.start is not None else fit_stride(labelled, plan=plan, max_horizon=max(horizons))
    return run_backtest(
        by_h, folds=plan.folds, stride=stride, start=plan.start, label_offset=LABEL_OFFSET, horizons=horizons,
        feature_names=features, estimator=make_estimator(seed=seed, positives=int(np.nansum(base["label"])),
                                                         rows=int(base["label"].notna().sum())), adjacency=adjacency, truth=truth,
        count_targets=[f"count_{c}" for c in ys.columns], count_estimator=make_count_estimator(seed=seed),
        min_train_periods=MIN_TRAIN_PERIODS, importance_repeats=plan.importance_repeats, progress=progress,
    )


def gates(result: BacktestResult) -> GateResult:
    return promotion_gates(result.metrics, bounds=GATE_BOUNDS)


def backtest_manifest(result: BacktestResult, verdict: GateResult) -> dict[str, Any]:
    """What the registry keeps of a backtest: plan, per-fold metrics, summary and the gates' verdict."""
    def records(frame: pd.DataFrame) -> list[dict]:
        clean = frame.copy()
        for column in clean.columns:
            if pd.api.types.is_datetime64_any_dtype(clean[column]):
                clean[column] = clean[column].dt.date.astype(str)
        return [{k: (None if isinstance(v, float) and np.isnan(v) else v) for k, v in row.items()}
                for row in clean.to_dict("records")]

    return {
        "folds": [{"number": f.number, "origin": str(f.origin.date()), "periods": len(f.test_periods)} for f in result.folds],
        "horizons": sorted(int(h) for h in result.metrics["horizon"].unique()),
        "metrics": records(result.metrics),
        "count_metrics": records(result.count_metrics) if not result.count_metrics.empty else [],
        "summary": records(summary_table(result.metrics)),
        "gates": {"passed": verdict.passed, "reasons": list(verdict.reasons), "table": records(verdict.table),
                  "bounds": list(GATE_BOUNDS)},
    }


def recorded_gates(manifest: dict[str, Any]) -> tuple[bool, list[str]]:
    """(passed, reasons) from a version's manifest; a version without a backtest does not pass."""
    recorded = manifest.get("backtest", {}).get("gates")
    if recorded is None:
        return False, ["no backtest is recorded for this version (train it with `concord train`)"]
    return bool(recorded["passed"]), list(recorded["reasons"])


def metrics_frame(manifest: dict[str, Any]) -> pd.DataFrame:
    """The tidy backtest metrics kept in a manifest, for the model card."""
    return pd.DataFrame(manifest.get("backtest", {}).get("metrics", []))


def summary_line(verdict: GateResult) -> str:
    row = verdict.table.iloc[0] if not verdict.table.empty else None
    if row is None:
        return "no backtest"
    return (f"backtest AP {row['model_ap']:.3f} vs best baseline {row['best_baseline']} {row['best_baseline_ap']:.3f}, "
            f"predicted/observed {row['predicted_to_observed']:.2f}")


__all__ = ["BacktestPlan", "backtest", "backtest_manifest", "gates", "metrics_frame", "recorded_gates",
           "summary_line"]
