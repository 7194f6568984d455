"""Compiled loops for the counting core (``FeatureContext.count``), one pass each.

A count is where each version's interval opens and closes in the [areas,
periods + 1] bin array, cumulated along periods (``intervals``). In numpy
that is five passes over millions of versions and three over the count
array, each with a temporary of its own; these loops do it in one pass each
with one output array, and release the GIL, so the second thread of
``compute_block`` counts at the same time (docs/adr/0014).

The integers are exactly numpy's: ``tests/features/test_kernels.py`` checks
them against the element-wise version on random bins.
"""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True, nogil=True, inline="always")
def _opening(event: int, known: int, until: int, closed: int, shift: int, closed_only: bool) -> int:
    """The bin where a version's interval opens: at ``event + shift``, not before the version is known
    (``known``) nor, with ``closed_only``, before it is closed; past ``until`` it is empty and stays there.

    It takes one version's values, not the arrays and an index: given the
    arrays, the loops ran 3.4x slower (measured on 3 M versions), the
    inlined arrays apparently keeping LLVM from keeping their pointers in
    registers.
    """
    s = max(event + shift, known)
    if closed_only:
        s = max(s, closed)
    return min(s, until)


@numba.njit(cache=True, nogil=True)
def opening_counts(event: np.ndarray, known: np.ndarray, until: np.ndarray, closed: np.ndarray, pick: np.ndarray,
                   use_pick: bool, shift: int, closed_only: bool, n_areas: int, width: int) -> np.ndarray:
    """Openings (``_opening``) cumulated over each area's periods, as int32 [areas, width].

    With ``use_pick`` only the versions at ``pick`` count. Where each one
    opens is not kept: ``window_counts`` works it out again, which costs
    less than holding a bin per version for every selector (half a GB on
    the benchmark city).
    """
    opened = np.zeros(n_areas * width, dtype=np.int32)
    for i in range(len(pick) if use_pick else len(event)):
        j = pick[i] if use_pick else i
        s = _opening(event[j], known[j], until[j], closed[j], shift, closed_only)
        if s < 0 or s >= len(opened):  # numpy's bincount would refuse it too; unchecked, it would write elsewhere
            raise IndexError("an interval opens outside the count array")
        opened[s] += 1
    _cumulate(opened, n_areas, width)
    return opened.reshape(n_areas, width)


@numba.njit(cache=True, nogil=True)
def window_counts(event: np.ndarray, known: np.ndarray, until: np.ndarray, closed: np.ndarray, pick: np.ndarray,
                  use_pick: bool, open_shift: int, closed_only: bool, close_shift: int, open_only: bool,
                  opened: np.ndarray) -> np.ndarray:
    """Versions counting at each (area, period) as float32 [areas, width - 1]: opened so far minus closed so far.

    An interval closes at ``event + close_shift``, or earlier when
    superseded (``until``) or, with ``open_only``, closed; never before it
    opens. The other arguments are those ``opening_counts`` made ``opened`` with.
    """
    n_areas, width = opened.shape
    ends = np.zeros(n_areas * width, dtype=np.int32)
    for i in range(len(pick) if use_pick else len(event)):
        j = pick[i] if use_pick else i
        e = min(event[j] + close_shift, until[j])
        if open_only:
            e = min(e, closed[j])
        e = max(e, _opening(event[j], known[j], until[j], closed[j], open_shift, closed_only))
        if e >= len(ends):
            raise IndexError("an interval closes outside the count array")
        ends[e] += 1
    out = np.empty((n_areas, width - 1), dtype=np.float32)
    for a in range(n_areas):
        gone = 0
        row = a * width
        for p in range(width - 1):
            gone += ends[row + p]
            out[a, p] = opened[a, p] - gone
    return out


@numba.njit(cache=True, nogil=True)
def _cumulate(counts: np.ndarray, n_areas: int, width: int) -> None:
    """Cumulative sums along each area's row, in place."""
    for a in range(n_areas):
        total = 0
        for p in range(a * width, (a + 1) * width):
            total += counts[p]
            counts[p] = total


@numba.njit(cache=True, nogil=True)
def carry_forward(values: np.ndarray, limit: int) -> np.ndarray:
    """Each row's last known (non-NaN) value carried over at most ``limit`` missing periods, as pandas'
    ``ffill(limit=limit)`` along the row; before the first known value it stays NaN."""
    out = values.copy()
    n_rows, width = values.shape
    for a in range(n_rows):
        last, gap = np.nan, limit + 1
        for p in range(width):
            if np.isnan(values[a, p]):
                gap += 1
                if gap <= limit:
                    out[a, p] = last
            else:
                last, gap = values[a, p], 0
    return out
