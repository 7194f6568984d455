"""Resolution, failure and satisfaction rates, open backlogs, and record shares.

Shares are ratios of two point-in-time counts over the same window; where
the denominator is zero the share is missing (the catalogue says so),
because "no petitions" is not "no repeat petitions". The repeat,
collective and cross-level shares and the screened share of the origin
split use the same recipe with other flags.
"""

from __future__ import annotations

import numpy as np

from features.catalogue import FeatureSpec
from features.pipeline.context import FeatureContext

KINDS = {"pet": "petitions", "med": "mediation"}


def share(ctx: FeatureContext, spec: FeatureSpec) -> np.ndarray:
    _, src, what, window, *den = spec.key
    kind = KINDS[src]
    if what == "closed":
        numerator = ctx.count(kind, "total", window, closed_only=True)
    else:
        numerator = ctx.count(kind, f"flag:{what}", window)
    denominator = ctx.count(kind, f"flag:{den[0]}" if den else "total", window)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = numerator / denominator
    return np.where(denominator > 0, out, np.nan).astype(np.float32)


def backlog(ctx: FeatureContext, spec: FeatureSpec) -> np.ndarray:
    _, src, window, *selector = spec.key
    return ctx.count(KINDS[src], selector[0] if selector else "total", window, open_only=True)


HANDLERS = {"share": share, "backlog": backlog}
