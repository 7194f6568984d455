"""The hidden state handed to an observer is the state the truth is computed from, and watching changes nothing."""

from __future__ import annotations

import datetime as dt

import numpy as np

from features.simulation import SimulationConfig
from features.simulation.config import F
from features.simulation.run import HiddenState, run
from features.simulation.writer import MemorySinks

SMALL = SimulationConfig(communities=30, weeks=12, seed=3, start=dt.date(2024, 1, 1))


def test_observer_sees_every_week_and_changes_nothing() -> None:
    seen: list[HiddenState] = []
    watched, plain = MemorySinks(), MemorySinks()
    run(SMALL, watched, observe=seen.append)
    run(SMALL, plain)
    for stem in ("petitions", "mediation", "truth_area_weeks"):
        assert watched.table(stem).equals(plain.table(stem)), stem
    assert len(seen) == SMALL.weeks
    truth = plain.table("truth_area_weeks").to_pandas()
    first = seen[0]
    assert first.tension.shape == first.excitation.shape == first.open_serious.shape == first.policy.shape == (30, F)
    assert first.base.shape == (30, F) and first.reporting.shape == (30,)
    assert list(first.ids) == list(truth["area_id"][:30])
    assert [str(s.week_start) for s in seen] == sorted({str(d)[:10] for d in truth["period_start"]})
    assert (first.excitation == 0).all() and (first.open_serious == 0).all()  # nothing has happened before week 0
    assert any(s.open_serious.sum() > 0 for s in seen[1:])
    assert not np.shares_memory(seen[0].tension, seen[1].tension)  # a copy per week, not the live array
