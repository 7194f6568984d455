"""Counts, rates per 1,000 residents and past escalations, as known before each period.

Rates divide by the residents of the latest population count known before
the period; where none is known the rate is missing, never a count divided
by a guess.
"""

from __future__ import annotations

import numpy as np

from features.catalogue import FeatureSpec
from features.pipeline.context import FeatureContext
from features.pipeline.population import residents

KINDS = {"pet": "petitions", "med": "mediation"}


def count_feature(ctx: FeatureContext, spec: FeatureSpec) -> np.ndarray:
    _, src, selector, window, lag, *event = spec.key
    return ctx.count(KINDS[src], selector, window, lag, event[0] if event else "")


def escalations(ctx: FeatureContext, window: int, lag: int = 0) -> np.ndarray:
    """Escalations by the three routes; the mediation route only when mediation outcomes are loaded."""
    total = ctx.count("petitions", "flag:esc", window, lag)
    if "mediation" in ctx.records and "mediation.outcome" in ctx.available:
        total = total + ctx.count("mediation", "flag:failed_serious", window, lag, "fail")
    return total


def esc_feature(ctx: FeatureContext, spec: FeatureSpec) -> np.ndarray:
    return escalations(ctx, spec.key[1])


def rate_feature(ctx: FeatureContext, spec: FeatureSpec) -> np.ndarray:
    people = residents(ctx)
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = ctx.feature(spec.key[1]) / people * np.float32(1000)
    return np.where(people > 0, rate, np.nan).astype(np.float32)


HANDLERS = {"count": count_feature, "esc": esc_feature, "rate": rate_feature}
