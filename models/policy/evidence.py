"""The evidence a review rests on -- the history and every past decision's effect -- computed once per snapshot.

Estimating every past decision's effect takes seconds on a city's records
and does not depend on the proposal, so it is kept per snapshot of the
records: the day the records are read as of, and the load batches that
made them. A new load or a new day gives a new snapshot; nothing stale is
served.
"""

from __future__ import annotations

import datetime as dt
import threading
from dataclasses import dataclass

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from features.calendar import WeekStart
from features.storage.tables import load_batches
from models.policy.effects import EffectDesign, estimate_effects
from models.policy.history import History, load_history


@dataclass(frozen=True)
class Evidence:
    history: History
    effects: pd.DataFrame
    as_of: dt.date


def snapshot_key(engine: Engine, *, as_of: dt.date) -> tuple:
    with engine.connect() as connection:
        batches = connection.execute(sa.select(sa.func.count(), sa.func.max(load_batches.c.batch_id))).one()
    return (str(engine.url), as_of, tuple(batches))


class EvidenceCache:
    """A small per-process cache of ``Evidence`` by snapshot and design (thread-safe)."""

    def __init__(self, capacity: int = 4) -> None:
        self.capacity = capacity
        self._items: dict[tuple, Evidence] = {}
        self._lock = threading.Lock()

    def get(self, engine: Engine, *, as_of: dt.date, design: EffectDesign, week_start: WeekStart) -> Evidence:
        key = (snapshot_key(engine, as_of=as_of), design, week_start)
        with self._lock:
            found = self._items.get(key)
            if found is None:
                history = load_history(engine, as_of=as_of, week_start=week_start)
                found = Evidence(history=history, effects=estimate_effects(history, design=design), as_of=as_of)
                if len(self._items) >= self.capacity:
                    self._items.pop(next(iter(self._items)))
                self._items[key] = found
        return found
