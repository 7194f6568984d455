"""The review's figures, built on ``matplotlib.figure.Figure`` (never pyplot: no global state on a server).

Each function returns a Figure so the same figure goes into the HTML (as a
PNG) and into the PDF (as a page).
"""

from __future__ import annotations

import re

import numpy as np
from matplotlib import font_manager
from matplotlib.figure import Figure

_CJK = re.compile(r"[\u2e80-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef]+")
CJK_FAMILIES = ("Noto Sans CJK SC", "Noto Sans SC", "WenQuanYi Zen Hei", "WenQuanYi Micro Hei", "SimHei",
                "Source Han Sans SC", "AR PL UMing CN")


def cjk_font() -> str | None:
    """The first installed font that can draw Chinese, if any."""
    names = {f.name for f in font_manager.fontManager.ttflist}
    return next((name for name in CJK_FAMILIES if name in names), None)


def drawable(text: str) -> str:
    """``text`` as this machine can draw it: Chinese kept when a CJK font exists, else left out."""
    if cjk_font() is not None:
        return text
    stripped = _CJK.sub("", text).strip()
    return stripped or ("(Chinese text: see the HTML report)" if text.strip() else "")


def _families() -> list[str]:
    font = cjk_font()
    return ["DejaVu Sans", font] if font else ["DejaVu Sans"]


def forecast_figure(forecasts: list[dict]) -> Figure:
    """Baseline and scenario expected disputes per area (relevant families summed), with 90% intervals."""
    figure = Figure(figsize=(8.0, 4.6))
    ax = figure.subplots()
    names = [drawable(f"{a['area_id']} {a['name']}") for a in forecasts]
    base = np.array([sum(x["baseline"] for x in a["families"]) for a in forecasts])
    scen = np.array([sum(x["scenario"] for x in a["families"]) for a in forecasts])
    base_lo = np.array([sum(x["baseline_lower"] for x in a["families"]) for a in forecasts])
    base_hi = np.array([sum(x["baseline_upper"] for x in a["families"]) for a in forecasts])
    scen_lo = np.array([sum(x["scenario_lower"] for x in a["families"]) for a in forecasts])
    scen_hi = np.array([sum(x["scenario_upper"] for x in a["families"]) for a in forecasts])
    y = np.arange(len(forecasts))
    ax.barh(y + 0.2, base, height=0.4, color="#8da0cb", label="baseline (without the decision)",
            xerr=[np.maximum(base - base_lo, 0), np.maximum(base_hi - base, 0)], capsize=2)
    ax.barh(y - 0.2, scen, height=0.4, color="#fc8d62", label="with the decision",
            xerr=[np.maximum(scen - scen_lo, 0), np.maximum(scen_hi - scen, 0)], capsize=2)
    ax.set_yticks(y, names, fontfamily=_families(), fontsize=7)
    ax.invert_yaxis()
    ax.set_xlabel("expected disputes over the horizon (affected families, 90% interval)")
    ax.set_title("Baseline and scenario per affected area")
    ax.legend(loc="lower right", fontsize=7)
    figure.tight_layout()
    return figure


def _forest(ax, labels: list[str], est: list[float | None], lo: list[float], hi: list[float], color: str) -> None:
    y = np.arange(len(labels))
    e = np.array([np.nan if v is None else np.exp(v) for v in est])
    ax.hlines(y, np.exp(lo), np.exp(hi), color=color, linewidth=2)
    ax.plot(e, y, "o", color=color)
    ax.axvline(1.0, color="grey", linestyle="--", linewidth=1)
    ax.set_xscale("log")
    ax.set_yticks(y, labels, fontsize=7)
    ax.invert_yaxis()


def analogue_figure(analogues: list[dict], uplift: list[dict], families: list[str]) -> Figure:
    """What each analogue's decision did to the relevant families, and the pooled uplift, as multipliers."""
    figure = Figure(figsize=(8.0, 4.6))
    ax = figure.subplots()
    labels, est, lo, hi = [], [], [], []
    for a in analogues:
        for o in a["outcomes"]:
            labels.append(f"{a['policy_id']} {o['family']} (sim {a['similarity']:.2f})")
            est.append(o["estimate"])
            lo.append(o["lower"])
            hi.append(o["upper"])
    pooled = [u for u in uplift if u["family"] in families]
    for u in pooled:
        labels.append(f"POOLED {u['family']} ({u['analogues']} decisions)")
        est.append(u["log_estimate"])
        lo.append(u["log_lower"])
        hi.append(u["log_upper"])
    if labels:
        _forest(ax, labels, est, lo, hi, "#66c2a5")
        ax.set_xlabel("disputes with the decision / without (log scale, 90% interval)")
    else:
        ax.text(0.5, 0.5, "no past decision of this type could be assessed", ha="center", va="center")
        ax.set_axis_off()
    ax.set_title("Analogue outcomes and the pooled uplift")
    figure.tight_layout()
    return figure


def uplift_figure(before: list[dict], after: list[dict]) -> Figure:
    """Uplift per family as proposed and after mitigations."""
    figure = Figure(figsize=(8.0, 4.6))
    ax = figure.subplots()
    labels = [u["family"] + (" *" if u["relevant"] else "") for u in before]
    _forest(ax, labels, [u["log_estimate"] for u in before], [u["log_lower"] for u in before],
            [u["log_upper"] for u in before], "#e78ac3")
    y = np.arange(len(after)) + 0.25
    ax.plot([np.nan if u["log_estimate"] is None else np.exp(u["log_estimate"]) for u in after], y, "s",
            color="#1b9e77", label="after mitigations")
    ax.legend(loc="lower right", fontsize=7)
    ax.set_xlabel("multiplier of disputes (log scale); * enters the level rule")
    ax.set_title("Estimated uplift by dispute family")
    figure.tight_layout()
    return figure
