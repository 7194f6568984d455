"""Feature matrices as the boosters can take them."""

from __future__ import annotations

import numpy as np


def fill_empty_columns(X: np.ndarray) -> np.ndarray:
    """Replace columns that are entirely NaN by zeros, for fitting only.

    scikit-learn 1.9.1's histogram boosting fails to bin a column with no
    value at all ("window shape cannot be larger than input array shape").
    Small or young panels have such columns (a 52-week window in a city's
    first months). A constant column carries the same information — none —
    and is never split on, so predictions on NaN later are unaffected.
    """
    empty = np.isnan(X).all(axis=0)
    if not empty.any():
        return X
    filled = np.array(X, dtype=float, copy=True)
    filled[:, empty] = 0.0
    return filled
