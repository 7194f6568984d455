"""Published risk levels: high / medium / low from probability cut-offs.

The cut-offs come from settings (docs/adr/0004-level-cutoffs.md) and are
passed in; nothing here decides them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

LEVELS = ("high", "medium", "low")


def assign_levels(probability: pd.Series | np.ndarray, *, high: float, medium: float) -> np.ndarray:
    """Map probabilities to levels; a probability equal to a cut-off takes the higher level."""
    if not 0 < medium < high < 1:
        raise ValueError(f"cut-offs must satisfy 0 < medium < high < 1, got medium={medium}, high={high}")
    p = np.asarray(probability, dtype=float)
    return np.where(p >= high, "high", np.where(p >= medium, "medium", "low"))
