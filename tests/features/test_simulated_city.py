"""Cross-check with the simulator: the label built from its records matches its recorded truth.

The simulator (features/simulation) applies the same escalation constants to
the events it generates; our label, rebuilt from the records it writes
(with late entries and corrections), must agree with its ``escalated``
truth almost everywhere.
"""

from __future__ import annotations

import pandas as pd

from features import simulation
from features.pipeline import PanelSpec, build_panel
from features.storage.tables import adjacency, areas, mediation_cases, petitions, policies, policy_areas, population
from tests.features.factories import _insert


def _records(frame: pd.DataFrame) -> list[dict]:
    rows = frame.astype(object).where(frame.notna(), None).to_dict("records")
    for row in rows:
        for key, value in row.items():
            if isinstance(value, pd.Timestamp):
                row[key] = value.date()
    return rows


def test_label_matches_the_simulated_truth(sqlite_engine) -> None:
    frames = simulation.simulate_frames(simulation.SimulationConfig(communities=30, weeks=60, seed=3))
    engine = sqlite_engine
    _insert(engine, areas, "areas", _records(frames["areas"].assign(parent_id=frames["areas"]["parent_id"].replace({"": None}))))
    _insert(engine, adjacency, "adjacency", _records(frames["adjacency"]))
    for kind, table, key in (("petitions", petitions, "petition_id"), ("mediation", mediation_cases, "case_id")):
        fixes = frames[f"{kind}_corrections"]
        fixes = fixes.assign(version=fixes.groupby(key).cumcount() + 2)
        _insert(engine, table, kind, _records(pd.concat([frames[kind].assign(version=1), fixes])))
    _insert(engine, population, "population", _records(frames["population"]))
    listed = frames["policies"]
    _insert(engine, policies, "policies", _records(listed.drop(columns=["areas"])))
    with engine.begin() as connection:
        connection.execute(policy_areas.insert(), [dict(policy_id=p, area_id=a) for p, s in zip(listed["policy_id"], listed["areas"])
                                                   for a in str(s).replace(",", ";").split(";") if a])
    panel = build_panel(engine, spec=PanelSpec())
    truth = frames["truth_area_weeks"][["area_id", "period_start", "escalated"]].assign(
        period_start=lambda d: pd.to_datetime(d["period_start"]))
    both = panel.assign(area_id=panel["area_id"].astype(str)).merge(truth, on=["area_id", "period_start"])
    both = both[both["label"].notna()]
    assert len(both) > 1000
    assert (both["label"] == both["escalated"].astype(float)).mean() > 0.99
    assert len(panel) == 30 * panel["period_start"].nunique()
