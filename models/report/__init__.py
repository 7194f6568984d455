"""HTML backtest report: gates, the side-by-side table and the figures in one self-contained file.

The figures are embedded as base64 PNGs so the report is a single file that
can be attached to a model version, mailed or archived without a server.
The page is a ``string.Template`` (no template engine dependency); every
value placed in it is escaped or generated here.
"""

from __future__ import annotations

import html
from importlib import resources
from pathlib import Path
from string import Template

import pandas as pd

from models.backtest import BASELINES, MODEL, ORACLE, BacktestResult, GateResult, promotion_gates, summary_table
from models.report.plots import (
    importance_figure,
    over_time_figure,
    reliability_figure,
    top_k_curves,
    top_k_figure,
)

__all__ = ["render_backtest_report", "write_backtest_report"]


def _table(frame: pd.DataFrame) -> str:
    return frame.to_html(index=False, float_format=lambda v: f"{v:.3f}", na_rep="–", border=0, escape=True)


def _scorers(predictions: pd.DataFrame) -> list[str]:
    return [name for name in (MODEL, *BASELINES, ORACLE) if name in predictions.columns]


def render_backtest_report(
    result: BacktestResult, *, title: str, horizon: int | None = None, gates: GateResult | None = None,
) -> str:
    """The report as one HTML string; figures for ``horizon`` (default: the shortest backtested)."""
    horizon = horizon if horizon is not None else int(result.metrics["horizon"].min())
    gates = gates if gates is not None else promotion_gates(result.metrics)
    scored = result.predictions[result.predictions["horizon"] == horizon]
    scorers = _scorers(scored)
    curves = top_k_curves(scored, scorers=scorers)
    calibrated = [name for name in (MODEL, ORACLE) if name in scorers]
    origins = ", ".join(str(fold.origin.date()) for fold in result.folds)
    values = {
        "title": html.escape(title),
        "protocol": html.escape(f"{len(result.folds)} folds with origins {origins}; horizons "
                                f"{sorted(result.metrics['horizon'].unique().tolist())}; "
                                f"{len(result.folds[0].test_periods)} periods scored per fold"),
        "gate_class": "pass" if gates.passed else "fail",
        "gate_verdict": "passed" if gates.passed else "refused",
        "gate_reasons": "".join(f"<p class='fail'>{html.escape(r)}</p>" for r in gates.reasons),
        "gate_table": _table(gates.table),
        "summary": _table(summary_table(result.metrics)),
        "horizon": str(horizon),
        "reliability": reliability_figure(scored, scorers=calibrated),
        "precision_recall": top_k_figure(curves, metrics=("precision", "recall"), title=f"horizon {horizon}"),
        "pai": top_k_figure(curves, metrics=("pai",), title=f"horizon {horizon}"),
        "over_time": over_time_figure(result.metrics, metric="average_precision", horizon=horizon),
        "importance": (f"<figure><img alt='feature importance' src='data:image/png;base64,"
                       f"{importance_figure(result.importance)}'></figure>" + _table(result.importance.head(15)))
        if not result.importance.empty else "<p class='note'>Not computed for this run.</p>",
        "counts": _table(result.count_metrics.groupby(["target", "horizon", "scorer"], sort=False)
                         [["poisson_deviance", "crps", "coverage", "interval_width"]].mean().reset_index())
        if not result.count_metrics.empty else "<p class='note'>No count targets were backtested.</p>",
        "folds": _table(pd.DataFrame([{"fold": f.number, "origin": f.origin.date(), "first scored": f.test_periods[0].date(),
                                       "last scored": f.test_periods[-1].date()} for f in result.folds])),
    }
    template = resources.files("models.report").joinpath("backtest.html").read_text(encoding="utf-8")
    return Template(template).substitute(values)


def write_backtest_report(result: BacktestResult, *, path: Path, title: str, horizon: int | None = None) -> Path:
    """Render and write the report; the file is written whole or not at all."""
    text = render_backtest_report(result, title=title, horizon=horizon)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
    return path
