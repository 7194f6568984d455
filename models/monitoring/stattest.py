"""A Wasserstein distance normalised by the pooled spread of both windows, registered with Evidently.

Evidently's "wasserstein" divides by the reference window's standard
deviation (floored at 0.001). Most of our features are sparse counts: a
family's petitions in four weeks is zero in nearly every area-period, so a
reference that happens to be all zeros gives a near-zero divisor and a
handful of petitions scores 45 — "drift" that is only sparsity. Dividing by
the spread of both windows together keeps the score on the scale of the
data: two constant, equal windows score 0, and a feature that was always 0
and is now often large still scores high.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

NAME = "wasserstein_pooled"
_registered = False


def pooled_wasserstein(reference: pd.Series, current: pd.Series, feature_type: object, threshold: float) -> tuple[float, bool]:
    r = reference.dropna().to_numpy(float)
    c = current.dropna().to_numpy(float)
    if not len(r) or not len(c):
        return 0.0, False
    spread = float(np.concatenate([r, c]).std())
    score = 0.0 if spread == 0 else float(stats.wasserstein_distance(r, c)) / spread
    return score, score >= threshold


def register() -> str:
    """Register the test with Evidently once per process; returns its name for ``method=``."""
    global _registered
    if not _registered:
        from evidently.legacy.calculations.stattests.registry import (
            StatTest,
            register_stattest,
        )
        from evidently.legacy.core import ColumnType

        test = StatTest(name=NAME, display_name="Wasserstein distance (normed by pooled sd)",
                        allowed_feature_types=[ColumnType.Numerical], default_threshold=0.1)
        register_stattest(test, pooled_wasserstein)
        _registered = True
    return NAME
