"""Compiled loops for the counting core (``FeatureContext.count``) and population's carry-forward.

A count is where each version's interval opens and closes in the [areas,
periods + 1] bin array, cumulated along periods (``intervals``). In numpy
that is five passes over millions of versions and three over the count
array, each with a temporary of its own; here it is one pass over the
versions and one over the array, with one output, and the loops release the
GIL, so the second thread of ``compute_block`` counts at the same time
(docs/adr/0014).

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
def window_counts(event: np.ndarray, known: np.ndarray, until: np.ndarray, closed: np.ndarray, pick: np.ndarray,
                  use_pick: bool, open_shift: int, closed_only: bool, close_shift: int, open_only: bool, n_areas: int,
                  width: int) -> np.ndarray:
    """Versions counting at each (area, period) as float32 [areas, width - 1]: opened so far minus closed so far.

    An interval opens where ``_opening`` says and closes at ``event +
    close_shift``, or earlier when superseded (``until``) or, with
    ``open_only``, closed; never before it opens. With ``use_pick`` only the
    versions at ``pick`` count. One pass marks +1 where each interval opens
    and -1 where it closes in one scratch array, a second cumulates it along
    each area's periods: nothing is kept between counts (keeping each
    selector's cumulated openings for its other windows cost a quarter of a
    GB of fresh memory on the benchmark city, and a pass of its own).
    """
    marks = np.zeros(n_areas * width, dtype=np.int32)
    for i in range(len(pick) if use_pick else len(event)):
        j = pick[i] if use_pick else i
        s = _opening(event[j], known[j], until[j], closed[j], open_shift, closed_only)
        if s < 0 or s >= len(marks):  # numpy's bincount would refuse it too; unchecked, it would write elsewhere
            raise IndexError("an interval opens outside the count array")
        e = min(event[j] + close_shift, until[j])
        if open_only:
            e = min(e, closed[j])
        e = max(e, s)
        if e >= len(marks):
            raise IndexError("an interval closes outside the count array")
        marks[s] += 1
        marks[e] -= 1
    out = np.empty((n_areas, width - 1), dtype=np.float32)
    for a in range(n_areas):
        total = 0
        row = a * width
        for p in range(width - 1):
            total += marks[row + p]
            out[a, p] = total
    return out


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


def warm_up() -> None:
    """Run the loops once on a few values, so that numba is set up before the first count needs it.

    A process's first call pays for numba's set-up and for loading the
    compiled loops from ``__pycache__`` (0.4-0.6 s on the benchmark machine,
    Python holding the GIL). ``build_features`` calls this in a thread of
    its own when it is going to count every period, while its main thread
    waits on the record cache's hashes and the database.
    """
    bins = np.zeros(2, dtype=np.int32)
    window_counts(bins, bins, bins + 1, bins + 1, bins[:0], False, 1, False, 2, False, 1, 3)
    carry_forward(np.zeros((1, 2)), 1)
