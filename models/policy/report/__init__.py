"""The review report for the decision file: one self-contained HTML page and a PDF with the same content.

Both show the inputs, the levels with the rule, the forecasts, analogues
and uplift with their plots, the findings with the reviewer's own
judgement marked as human input, the model version and the limits of the
evidence. The PDF is written with matplotlib's PdfPages (no new
dependency); it always has ``PDF_PAGES`` pages.
"""

from __future__ import annotations

import base64
import io
import math
import textwrap
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure

from models.policy.findings import shown_proposal
from models.policy.report.plots import (
    analogue_figure,
    cjk_font,
    drawable,
    forecast_figure,
    uplift_figure,
)

PDF_PAGES = 6
_ENV = Environment(loader=PackageLoader("models.policy", "report"), autoescape=select_autoescape(["html"]))
_ENV.filters["exp"] = math.exp


def _png(figure: Figure) -> str:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=90, bbox_inches="tight")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _figures(review: dict[str, Any]) -> list[Figure]:
    r = review["result"]
    return [forecast_figure(r["forecasts"]), analogue_figure(r["analogues"], r["uplift"], r["relevant_families"]),
            uplift_figure(r["uplift"], r["uplift_after_mitigations"])]


def render_html(review: dict[str, Any]) -> str:
    """``review``: review_id, version, title, policy_type, created_by, created_at, proposal, result."""
    forecast, analogue, uplift = (_png(f) for f in _figures(review))
    p = shown_proposal(review["proposal"], review["result"]["suppression_k"])
    return _ENV.get_template("review.html").render(review=review, r=review["result"], p=p,
                                                   forecast_png=forecast, analogue_png=analogue, uplift_png=uplift)


def _text_page(title: str, lines: list[str]) -> Figure:
    """An A4 page of wrapped text (long pages are cut with a pointer to the HTML report)."""
    figure = Figure(figsize=(8.27, 11.69))
    figure.text(0.06, 0.96, drawable(title), fontsize=14, weight="bold", va="top")
    wrapped: list[str] = []
    for line in lines:
        wrapped.extend(textwrap.wrap(drawable(line), width=105) or [""])
    if len(wrapped) > 70:
        wrapped = wrapped[:69] + ["... (continued in the HTML report)"]
    figure.text(0.06, 0.92, "\n".join(wrapped), fontsize=8, va="top", family="DejaVu Sans")
    return figure


def _summary_lines(review: dict[str, Any]) -> list[str]:
    r = review["result"]
    p = shown_proposal(review["proposal"], r["suppression_k"])
    consult = p.get("consultation") or {}
    lines = [
        f"Review {review['review_id']} version {review['version']}, filed by {review['created_by']} on {review['created_at']}",
        f"Risk level before mitigations: {r['level_before'].upper()}    after mitigations: {r['level_after'].upper()}",
        "Why (before): " + "; ".join(r["level_reasons_before"]),
        "Why (after): " + "; ".join(r["level_reasons_after"]),
        "", "The rule: " + r["level_rule"], "",
        "Inputs:",
        f"  type {p['type']}; areas {', '.join(p['areas'])}",
        (f"  announced {p['announce_on']}, effective {p['effective_on']}; households {p.get('households_affected')}; "
        f"compensation ratio {p.get('compensation_ratio')}; hearing {p.get('hearing_held')}"),
        f"  consultation: opposed share {consult.get('opposed_share')}; respondents and objections as in the HTML report",
        "  mitigations: " + ("; ".join(f"{m['kind']} ({m['note']})" for m in r["mitigations"]) or "none"),
        "",
        f"Records as of {r['records_as_of']}; method {r['method_version']}; serving model {r['model_version'] or 'none'}",
        f"Horizon: {r['horizon']['weeks']} weeks from {r['horizon']['start']}; families in the rule: "
        + ", ".join(r["relevant_families"]),
        (f"Totals over the affected areas: baseline {r['totals']['baseline']:.1f}, with the decision "
        f"{r['totals']['scenario']:.1f}, extra {r['totals']['extra']:.1f} expected disputes"),
        f"Evidence: {r['analogue_count']} past decisions of this type assessed ({r['decisions_assessed']} of all types)",
    ]
    if r["warnings"]:
        lines += ["", "WARNINGS:"] + [f"  - {w}" for w in r["warnings"]]
    if cjk_font() is None:
        lines += ["", "(No Chinese font is installed on this server: Chinese names are shown in the HTML report.)"]
    return lines


def _findings_lines(review: dict[str, Any]) -> list[str]:
    r = review["result"]
    lines = ["Mediators and information sessions first:"]
    lines += [f"  {x['area_id']} {x['family']}: +{x['extra_disputes']:.1f} expected disputes -> {x['action']}"
              for x in r["priorities"]] or ["  (none)"]
    for f in r["findings"]:
        lines += ["", f"{f['label'].upper()}", "  From the records:"]
        lines += [f"    - {x}" for x in f["from_records"]]
        lines += [f"  HUMAN INPUT (reviewer's judgement, {f['human_input']['note']}):",
                  f"    {f['human_input']['judgement'] or '(not given)'}"]
    return lines


def render_pdf(review: dict[str, Any]) -> bytes:
    """The report as PDF bytes: summary, three plots, findings, limits (``PDF_PAGES`` pages)."""
    buffer = io.BytesIO()
    pages = [_text_page(f"Policy review: {review['title']}", _summary_lines(review)), *_figures(review),
             _text_page("Priorities and findings on the four dimensions", _findings_lines(review)),
             _text_page("Limits of the evidence", review["result"]["limits"])]
    with PdfPages(buffer, metadata={"Title": drawable(f"Policy review {review['review_id']} v{review['version']}"),
                                    "Creator": "Concord"}) as pdf:
        for page in pages:
            pdf.savefig(page)
    return buffer.getvalue()
