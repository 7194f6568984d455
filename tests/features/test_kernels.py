"""Both sets of counting loops, compiled (``kernels``) and numpy (``intervals``), give the element-wise
integers exactly (docs/adr/0014): which one counts depends only on the size of the block."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from features.pipeline import intervals, kernels
from features.pipeline.context import COMPILED_FROM, FeatureContext

LOOPS = pytest.mark.parametrize("loops", [kernels, intervals], ids=["compiled", "numpy"])


def _numpy_counts(event, known, until, closed, *, open_shift, close_shift, closed_only, open_only, n_areas, width):
    """The element-wise version the loops replaced (FeatureContext.count before the kernels)."""
    start = np.minimum(np.maximum(np.maximum(event + open_shift, known), closed if closed_only else known), until)
    opened = np.bincount(start, minlength=n_areas * width).reshape(n_areas, -1).cumsum(axis=1, dtype=np.int32)
    end = np.minimum(event + close_shift, until)
    if open_only:
        end = np.minimum(end, closed)
    end = np.maximum(end, start)
    ended = np.bincount(end, minlength=n_areas * width).reshape(n_areas, -1).cumsum(axis=1, dtype=np.int32)
    return (opened[:, :-1] - ended[:, :-1]).astype(np.float32)


@st.composite
def bins(draw):
    """Versions of random areas with periods clipped to [0, width - 1], as ``FeatureContext._encoded`` makes them."""
    n_areas, width = draw(st.integers(1, 6)), draw(st.integers(2, 12))
    n = draw(st.integers(0, 60))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    area = rng.integers(0, n_areas, n)
    base = area * width
    event = base + rng.integers(-8, width, n)  # events may lie before lo: they are not clipped
    known = base + rng.integers(0, width, n)
    until = base + rng.integers(0, width, n)
    closed = base + rng.integers(0, width, n)
    return *(values.astype(np.int32) for values in (event, known, until, closed)), n_areas, width  # as Records hold them


@LOOPS
@settings(max_examples=300, deadline=None)
@given(bins(), st.integers(1, 5), st.integers(0, 60), st.booleans(), st.booleans(), st.none() | st.integers(0, 2**32 - 1))
def test_loops_equal_numpy(loops, drawn, open_shift: int, window: int, closed_only: bool, open_only: bool, picking: int | None) -> None:
    """Whole arrays and picked versions (a flag's, read in place) count as numpy counts the copies."""
    event, known, until, closed, n_areas, width = drawn
    close_shift = open_shift + window
    pick = np.zeros(0, dtype=np.int32)
    if picking is not None:
        pick = np.flatnonzero(np.random.default_rng(picking).random(len(event)) < 0.5).astype(np.int32)
    arrays = (event, known, until, closed)
    out = loops.window_counts(*arrays, pick, picking is not None, open_shift, closed_only, close_shift, open_only, n_areas, width)
    if picking is not None:
        event, known, until, closed = (values[pick] for values in arrays)
    want = _numpy_counts(event, known, until, closed, open_shift=open_shift, close_shift=close_shift, closed_only=closed_only,
                         open_only=open_only, n_areas=n_areas, width=width)
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, want)


@LOOPS
def test_a_bin_outside_the_array_is_refused(loops) -> None:
    """Unchecked, a bad bin would write outside the array; numpy's bincount refused it, so do the loops."""
    one, none = np.array([5], dtype=np.int32), np.zeros(0, dtype=np.int32)
    with pytest.raises(IndexError, match="opens outside the count array"):
        loops.window_counts(one, one, one, one, none, False, 0, False, 1, False, 1, 3)
    zero = np.array([0], dtype=np.int32)
    with pytest.raises(IndexError, match="closes outside the count array"):
        loops.window_counts(zero, zero, zero + 9, zero + 9, none, False, 0, False, 9, False, 1, 3)
    assert loops.window_counts(zero, zero, zero + 2, zero + 2, none, False, 0, False, 9, False, 1, 3).tolist() == [[1, 1]]


@LOOPS
@settings(max_examples=200, deadline=None)
@given(st.integers(1, 5), st.integers(1, 30), st.integers(0, 12), st.integers(0, 2**32 - 1))
def test_carry_forward_is_pandas_ffill(loops, rows: int, width: int, limit: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    values = np.where(rng.random((rows, width)) < 0.7, np.nan, rng.normal(size=(rows, width)))
    want = pd.DataFrame(values.T).ffill(limit=limit).to_numpy().T if limit else values
    np.testing.assert_array_equal(loops.carry_forward(values, limit), want)


def test_a_few_periods_count_in_numpy_and_numba_loads_only_where_it_counts() -> None:
    """numba's set-up (0.5 s a process) is paid by whole-panel builds only: not by an incremental week, nor by the API."""
    def loops(lo: int, hi: int):
        return FeatureContext(grid=None, lo=lo, hi=hi, available=set(), records={}).loops()

    assert loops(260, 261) is intervals and loops(0, COMPILED_FROM - 1) is intervals
    assert loops(0, COMPILED_FROM) is kernels and loops(0, 261) is kernels
    code = "import sys, api.app, api.cli, features.pipeline; print('numba' in sys.modules)"
    shown = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                           cwd=Path(__file__).resolve().parents[2])
    assert shown.stdout.strip() == "False"
