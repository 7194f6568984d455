"""The retraining run report: the decision, champion against challenger, and the drift summary.

One self-contained HTML file (figures as base64 PNGs, like the backtest
report), written whole or not at all, so it can be archived with the run.
The Evidently reports it links to sit beside it in the same folder.
"""

from __future__ import annotations

import html
import json
from importlib import resources
from pathlib import Path
from string import Template
from typing import Any

import pandas as pd
from matplotlib.figure import Figure

from models.monitoring.compare import BASELINE, CHALLENGER, CHAMPION, Comparison
from models.monitoring.history import json_ready
from models.report.plots import reliability_figure, to_base64


def fold_figure(comparison: Comparison) -> str:
    """Average precision per fold, one line per scorer: who wins, and how steadily."""
    figure = Figure(figsize=(5.6, 3.4))
    ax = figure.subplots()
    for scorer, part in comparison.metrics.groupby("scorer", sort=False):
        ax.plot(pd.to_datetime(part["origin"]), part["average_precision"], marker="o", label=scorer)
    ax.set_xlabel("fold origin")
    ax.set_ylabel("average precision")
    ax.legend(frameon=False)
    figure.autofmt_xdate()
    return to_base64(figure)


def _shown(value: Any) -> str:
    """A summary value as a person reads it: 4 decimals, dates and mappings as JSON."""
    if isinstance(value, float):
        return f"{value:.4f}"
    if isinstance(value, dict | list):
        return json.dumps(json_ready(value), ensure_ascii=False)
    return str(value)


def _table(frame: pd.DataFrame) -> str:
    return frame.to_html(index=False, float_format=lambda v: f"{v:.4f}", na_rep="–", border=0, escape=True)


def render(*, run_id: int, summary: dict[str, Any], comparison: Comparison | None, drift: dict[str, Any] | None) -> str:
    decision = summary.get("decision", "not reached")
    scorers = [s for s in (CHALLENGER, CHAMPION, BASELINE) if comparison is not None and s in comparison.predictions]
    drift_rows = pd.DataFrame(drift["scores"]) if drift else pd.DataFrame()
    if not drift_rows.empty:
        drift_rows = drift_rows[drift_rows["drifted"]].sort_values("score", ascending=False).head(25)
    values = {
        "run_id": str(run_id),
        "decision": html.escape(decision),
        "decision_class": "pass" if summary.get("promoted") else "fail",
        "reasons": "".join(f"<li>{html.escape(r)}</li>" for r in summary.get("reasons", [])),
        "facts": _table(pd.DataFrame([{"item": k, "value": _shown(v)} for k, v in summary.items()
                                      if k not in ("reasons", "drift", "comparison", "loaded")])),
        "means": _table(comparison.means.reset_index()) if comparison else "<p>No comparison was run.</p>",
        "folds_figure": f"<img alt='average precision per fold' src='data:image/png;base64,{fold_figure(comparison)}'>"
        if comparison else "",
        "reliability": f"<img alt='reliability' src='data:image/png;base64,{reliability_figure(comparison.predictions, scorers=scorers)}'>"
        if comparison else "",
        "drift_verdict": html.escape("drift found: " + "; ".join(drift["reasons"]) if drift and drift["drift_detected"]
                                     else "no drift found" if drift else "drift was not checked"),
        "drift_table": _table(drift_rows) if not drift_rows.empty else "<p>No column drifted.</p>",
        "drift_links": "".join(f"<li><a href='{html.escape(name)}'>{html.escape(part)} (Evidently)</a></li>"
                               for part, name in (drift or {}).get("reports", {}).items()),
    }
    template = resources.files("models.monitoring").joinpath("retrain.html").read_text(encoding="utf-8")
    return Template(template).substitute(values)


def write_report(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
    return path
