"""Late entry and corrections: how the records lag and revise the events.

Entry delay (``RecordingParams.entry_delay_probs``): a record is entered the
same day (45%), 1-3 days later (35%), 4-13 days later (12%) or 2-6 weeks
later (8%, the late entries that point-in-time features must respect).

Corrections re-send an id with changed content and a strictly later
``recorded_on``:
- petitions: a petition still open when entered gets a second version when it
  is closed (status, closed_on, satisfied filled in), ``closed_on`` + 0-7 days;
  ``misclassified`` (4%) are first entered under a wrong family and the
  correction restores the true category (7-35 days later if nothing else
  changes);
- mediation: committees that file at opening (1 - ``mediation_entered_at_close``)
  enter the case as ``pending`` and send the outcome and ``closed_on`` when the
  case closes, ``closed_on`` + 0-7 days; the others file the finished case once.
The export is taken on ``SimulationConfig.export_on``, the day after the last
simulated week: an entry or correction made on or after that day is not in
it (``run.recorded_before``), so the last weeks are as incomplete as a live
system's — the late entries point-in-time features must live with.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

_DELAY_RANGES = ((0, 0), (1, 3), (4, 13), (14, 42))


def entry_delay(rng: np.random.Generator, size: int, probs: tuple[float, ...]) -> np.ndarray:
    """Days from the event to its first entry, drawn from the four bands."""
    band = rng.choice(len(_DELAY_RANGES), size=size, p=np.asarray(probs) / np.sum(probs))
    low = np.array([r[0] for r in _DELAY_RANGES])[band]
    high = np.array([r[1] for r in _DELAY_RANGES])[band]
    return (low + np.floor(rng.random(size) * (high - low + 1))).astype(np.int64)


def ids_from(prefix: str, seq: np.ndarray, width: int = 10) -> pa.Array:
    """``prefix`` + zero-padded sequence numbers, built in Arrow (no Python loop)."""
    text = pc.cast(pa.array(np.asarray(seq, dtype=np.int64)), pa.string())
    return pc.binary_join_element_wise(prefix, pc.utf8_lpad(text, width, "0"), "")


def make_ids(prefix: str, first: int, count: int, width: int = 10) -> pa.Array:
    """``count`` consecutive ids from ``first``."""
    return ids_from(prefix, np.arange(first, first + count, dtype=np.int64), width)


def days(values: np.ndarray) -> pa.Array:
    """datetime64[D] (NaT for missing) as an Arrow date32 array with nulls."""
    values = np.asarray(values, dtype="datetime64[D]")
    return pa.array(values, type=pa.date32(), mask=np.isnat(values))


def optional(values: np.ndarray, missing: np.ndarray, type_: pa.DataType) -> pa.Array:
    """An Arrow array with nulls where ``missing``."""
    return pa.array(values, type=type_, mask=missing)
