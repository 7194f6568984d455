"""The counting core: each record version counts over an interval of periods.

A version of a record with event period ``e``, known from period ``a``
(the period after its ``recorded_on``) until period ``b`` (the period after
it was superseded), belongs to the window "last ``w`` periods, ``lag``
periods back" of period t exactly when ``a <= t < b`` and
``e + lag + 1 <= t < e + lag + w + 1``. The intersection is one interval, so
a count over any window, as known at every period, is a difference array
(+1 where the interval opens, -1 where it closes) summed cumulatively over
periods: two ``bincount`` calls and one ``cumsum``, whatever the number of
records. This is what makes the build point-in-time correct *and* fast.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from features.pipeline.grid import BIG


def window_bounds(*, event: np.ndarray, known_from: np.ndarray, known_until: np.ndarray, window: int,
                  lag: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """First and past-last period at which each version counts in the window."""
    start = np.maximum(known_from, event + (lag + 1))
    end = np.minimum(known_until, event + (lag + window + 1))
    return start, end


def interval_sum(*, area: np.ndarray, start: np.ndarray, end: np.ndarray, weight: np.ndarray | None,
                 n_areas: int, lo: int, hi: int) -> np.ndarray:
    """Sum of ``weight`` over the versions whose interval covers each (area, period in [lo, hi)).

    Intervals opening before ``lo`` are clipped to it, so a block of periods
    can be computed on its own (incremental builds).
    """
    width = hi - lo + 1
    s = np.maximum(start, lo)
    f = np.minimum(end, hi)
    keep = s < f
    if weight is not None:
        keep &= weight != 0
    area, s, f = area[keep], s[keep] - lo, f[keep] - lo
    w = None if weight is None else weight[keep]
    return _covering(area * width + s, area * width + f, weights=w, n_areas=n_areas, width=width)


def _covering(opens: np.ndarray, closes: np.ndarray, *, weights: np.ndarray | None, n_areas: int, width: int) -> np.ndarray:
    """[areas, width - 1] float32 sums over the intervals covering each bin: +weight where each interval
    opens, -weight where it closes (bins ``area * width + period - lo``), cumulated along each area's periods."""
    size = n_areas * width
    marks = np.bincount(opens, weights=weights, minlength=size) - np.bincount(closes, weights=weights, minlength=size)
    return np.cumsum(marks.reshape(n_areas, width), axis=1)[:, :-1].astype(np.float32)


def last_event(*, area: np.ndarray, event: np.ndarray, n_areas: int, lo: int, hi: int) -> np.ndarray:
    """For each (area, t in [lo, hi)): the latest event period before t, or -BIG (events known from e + 1)."""
    width = hi - lo
    out = np.full((n_areas, width), -BIG, dtype=np.int64)
    if width <= 0:
        return out
    ok = (event < hi - 1) & (event != BIG)
    at = np.maximum(event[ok] + 1, lo) - lo
    np.maximum.at(out, (area[ok], at), event[ok])
    return np.maximum.accumulate(out, axis=1)


def first_known(*, event: np.ndarray, known_from: np.ndarray, lo: int, hi: int) -> np.ndarray:
    """For each t in [lo, hi): the earliest event period among versions known at t (BIG if none)."""
    out = np.full(hi - lo, BIG, dtype=np.int64)
    at = np.clip(known_from, lo, hi) - lo
    ok = at < hi - lo
    np.minimum.at(out, at[ok], event[ok])
    return np.minimum.accumulate(out)


# The counting loops of ``FeatureContext.count`` as numpy passes, with the signatures of ``kernels``'
# compiled ones: the same integers (tests/features/test_kernels.py), for blocks of a few periods.


def _opening(event: np.ndarray, known: np.ndarray, until: np.ndarray, closed: np.ndarray, shift: int,
             closed_only: bool) -> np.ndarray:
    start = np.maximum(event + shift, known)
    if closed_only:
        np.maximum(start, closed, out=start)
    return np.minimum(start, until, out=start)


def _chosen(arrays: tuple[np.ndarray, ...], pick: np.ndarray, use_pick: bool) -> tuple[np.ndarray, ...]:
    return tuple(values[pick] for values in arrays) if use_pick else arrays


def window_counts(event: np.ndarray, known: np.ndarray, until: np.ndarray, closed: np.ndarray, pick: np.ndarray,
                  use_pick: bool, open_shift: int, closed_only: bool, close_shift: int, open_only: bool, n_areas: int,
                  width: int) -> np.ndarray:
    """``kernels.window_counts`` in numpy."""
    event, known, until, closed = _chosen((event, known, until, closed), pick, use_pick)
    start = _opening(event, known, until, closed, open_shift, closed_only)
    end = np.minimum(event + close_shift, until)
    if open_only:
        np.minimum(end, closed, out=end)
    np.maximum(end, start, out=end)
    for bins, what in ((start, "opens"), (end, "closes")):
        if len(bins) and (bins.min() < 0 or bins.max() >= n_areas * width):
            raise IndexError(f"an interval {what} outside the count array")
    return _covering(start, end, weights=None, n_areas=n_areas, width=width)


def carry_forward(values: np.ndarray, limit: int) -> np.ndarray:
    """``kernels.carry_forward`` in numpy: pandas' ``ffill(limit)`` along each row."""
    if not limit:
        return values.copy()
    # Along axis 1 of the frame as it is: ffill of the transposed frame and a copy back took 2.5x the time and
    # ~4 MB of fresh memory a call more (a population column of the benchmark city, [5,000 x 105]).
    return pd.DataFrame(values).ffill(axis=1, limit=limit).to_numpy()
