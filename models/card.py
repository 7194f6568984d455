"""The model card: what a version is for, what it was trained on, how it did, and where it fails.

DESIGN.md principle 5 ("honest numbers") asks every model to ship with its
backtest against simple baselines, its calibration and a card stating
intended use and known limits. The card is built from what the registry
keeps — the manifest and the tidy backtest metrics — so it can be rendered
again for any version, long after training.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from models.backtest import MODEL, ORACLE, promotion_gates, summary_table
from models.report.plots import reliability_figure

INTENDED_USE = (
    "Area-level service planning: ranking communities and grids so that mediators and services reach "
    "areas where disputes are likely to escalate in the coming period. It scores areas and periods, "
    "never individuals; a flag is a request for mediation and services, never a ground for enforcement."
)
FEEDBACK_LOOP = (
    "Flags change what gets recorded. An area that receives mediators, or whose disputes are screened "
    "(矛盾纠纷排查), records more cases; an area that is left alone may record fewer. A model retrained on "
    "those records can learn its own past flags and keep pointing at the same places. Concord records "
    "which areas were flagged, and screened cases are kept apart from reported ones, so this feedback "
    "can be measured; compare flagged and unflagged areas before reading a rising trend as rising tension."
)
KNOWN_LIMITS = (
    "Escalations are rare: precision at the top 1% rests on few events per period and varies between folds.",
    "Scores reflect recorded disputes; under-reporting areas (few residents' committees, many migrants) look calmer than they are.",
    "The backtest covers the periods in its folds only; a new policy, a boundary change or a new record source is out of sample.",
    "Probabilities are calibrated on the latest training periods; after a shift in recording practice recalibrate before trusting levels.",
)


def _table(frame: pd.DataFrame) -> str:
    return frame.to_html(index=False, float_format=lambda v: f"{v:.3f}", na_rep="–", border=0, escape=True)


def render_model_card(
    *, version: str, manifest: Mapping[str, Any], metrics: pd.DataFrame, predictions: pd.DataFrame | None = None,
    known_limits: Sequence[str] = KNOWN_LIMITS, bounds: tuple[float, float] = (0.9, 1.1),
) -> str:
    """One self-contained HTML page for ``version`` from its manifest and backtest metrics."""
    window = manifest.get("training_window", ["?", "?"])
    gates = promotion_gates(metrics, bounds=bounds)
    summary = summary_table(metrics)
    model = metrics[metrics["scorer"] == MODEL].groupby("horizon")[["ece", "brier", "log_score"]].mean().reset_index()
    calibration = model.merge(gates.table[["horizon", "predicted_to_observed"]], on="horizon")
    figure = ""
    if predictions is not None and not predictions.empty:
        first = predictions[predictions["horizon"] == predictions["horizon"].min()]
        shown = [name for name in (MODEL, ORACLE) if name in first.columns]
        figure = f"<img alt='reliability diagram' src='data:image/png;base64,{reliability_figure(first, scorers=shown)}'>"
    facts = {
        "Version": version,
        "Estimator": manifest.get("estimator", "?"),
        "Label": manifest.get("label", "escalation"),
        "Training window": f"{window[0]} to {window[1]}",
        "Rows / positive rate": f"{manifest.get('rows', '?')} / {manifest.get('positive_rate', float('nan')):.3f}",
        "Feature catalogue hash": manifest.get("catalogue_hash", "?"),
        "Data hash": manifest.get("data_hash", "?"),
        "Library versions": ", ".join(f"{k} {v}" for k, v in manifest.get("library_versions", {}).items()),
    }
    rows = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(str(v))}</td></tr>" for k, v in facts.items())
    verdict = "passed" if gates.passed else "refused: " + "; ".join(gates.reasons)
    limits = "".join(f"<li>{html.escape(item)}</li>" for item in known_limits)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Model card {html.escape(version)}</title>
<style>body{{font-family:system-ui,sans-serif;max-width:64em;margin:2em auto;color:#222}}
table{{border-collapse:collapse;font-size:.9em}}th,td{{border:1px solid #ccc;padding:.25em .6em;text-align:left}}
th{{background:#f2f2f2}}</style></head><body>
<h1>Model card — {html.escape(version)}</h1>
<h2>Intended use</h2><p>{html.escape(INTENDED_USE)}</p>
<h2>Model and training data</h2><table>{rows}</table>
<h2>Backtest against baselines</h2>
<p>Promotion gates {html.escape(verdict)}.</p>{_table(gates.table)}{_table(summary)}
<h2>Calibration</h2>{_table(calibration)}{figure}
<h2>Known limits</h2><ul>{limits}</ul>
<h2>Feedback loop</h2><p>{html.escape(FEEDBACK_LOOP)}</p>
</body></html>
"""
