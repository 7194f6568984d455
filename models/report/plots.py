"""The backtest's figures, each returned as a base64 PNG ready for an ``<img>`` tag.

Figures are built with ``matplotlib.figure.Figure`` directly, never pyplot,
so no global figure state leaks between reports or threads and no display
backend is needed on a server.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from models.metrics import reliability_table, top_k_metrics

K_GRID: tuple[float, ...] = (0.01, 0.02, 0.05, 0.10, 0.15, 0.20)


def to_base64(figure: Figure) -> str:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=90, bbox_inches="tight")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def reliability_figure(predictions: pd.DataFrame, *, scorers: Sequence[str], bins: int = 10) -> str:
    """Observed rate against mean prediction per equal-mass bin; the diagonal is perfect calibration."""
    figure = Figure(figsize=(4.8, 4.2))
    ax = figure.subplots()
    observed = predictions["label"].notna().to_numpy()
    top = 0.0
    for name in scorers:
        table = reliability_table(y=predictions.loc[observed, "label"].to_numpy(float),
                                  p=predictions.loc[observed, name].to_numpy(float), bins=bins)
        ax.plot(table["predicted"], table["observed"], marker="o", label=name)
        top = max(top, float(table[["predicted", "observed"]].to_numpy().max()))
    ax.plot([0, top], [0, top], color="grey", linestyle="--", linewidth=1)
    ax.set(xlabel="mean predicted probability", ylabel="observed escalation rate", title="Reliability (equal-mass bins)")
    ax.legend(fontsize=8)
    return to_base64(figure)


def top_k_curves(predictions: pd.DataFrame, *, scorers: Sequence[str], ks: Sequence[float] = K_GRID) -> pd.DataFrame:
    """Recall, precision, PAI and PEI* per scorer and k, periods ranked separately (models/metrics.py)."""
    rows = predictions[predictions["label"].notna()]
    y, period = rows["label"].to_numpy(float), rows["period_start"].to_numpy()
    return pd.DataFrame([
        {"scorer": name, "k": k, **top_k_metrics(y=y, score=rows[name].to_numpy(float), period=period, k=k)}
        for name in scorers for k in ks
    ])


def top_k_figure(curves: pd.DataFrame, *, metrics: Sequence[str], title: str) -> str:
    figure = Figure(figsize=(4.2 * len(metrics), 3.6))
    axes = np.atleast_1d(figure.subplots(1, len(metrics)))
    for ax, metric in zip(axes, metrics, strict=True):
        for name, part in curves.groupby("scorer", sort=False):
            ax.plot(100 * part["k"], part[metric], marker="o", label=name)
        ax.set(xlabel="areas flagged per period (%)", ylabel=metric, title=f"{metric} at top k")
    axes[0].legend(fontsize=8)
    figure.suptitle(title)
    return to_base64(figure)


def over_time_figure(metrics: pd.DataFrame, *, metric: str, horizon: int) -> str:
    """One line per scorer across the folds' origins: is the model's lead stable or one lucky fold?"""
    figure = Figure(figsize=(6.4, 3.6))
    ax = figure.subplots()
    part = metrics[metrics["horizon"] == horizon]
    for name, rows in part.groupby("scorer", sort=False):
        ax.plot(rows["origin"], rows[metric], marker="o", label=name)
    ax.set(xlabel="fold origin", ylabel=metric, title=f"{metric} per fold, horizon {horizon}")
    ax.legend(fontsize=8)
    figure.autofmt_xdate()
    return to_base64(figure)


def importance_figure(importance: pd.DataFrame, *, top: int = 15) -> str:
    figure = Figure(figsize=(6.0, 0.35 * min(top, len(importance)) + 1.2))
    ax = figure.subplots()
    shown = importance.head(top).iloc[::-1]
    ax.barh(shown["feature"], shown["importance"], xerr=shown["std"], color="#4a7ab0")
    ax.set(xlabel="drop in average precision when shuffled", title="Permutation importance (last fold)")
    return to_base64(figure)
