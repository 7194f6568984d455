"""Label definitions: the three escalation routes, category counts, horizons 1 to 4."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from features.contracts import COLLECTIVE_MIN_PEOPLE
from features.labels import LABEL_OFFSET, LabelSpec, label_from_events
from features.pipeline import PanelSpec, build_panel
from tests.features.factories import D, add_cases, add_petitions, case, city, petition

WEEK = pd.Timestamp("2024-03-04")  # a Monday: the outcome period under test


def _label(engine, spec: PanelSpec = PanelSpec(), area: str = "S0C1", period: pd.Timestamp = WEEK) -> float:
    panel = build_panel(engine, spec=spec)
    row = panel[(panel["area_id"] == area) & (panel["period_start"] == period - pd.Timedelta(weeks=LABEL_OFFSET))]
    return float(row["label"].iloc[0])


@pytest.fixture
def town(engine):
    city(engine)
    add_petitions(engine, [petition(area="S1C2", on=D(2024, 1, 1), people=1, level_reached="county"),
                           petition(area="S1C2", on=D(2024, 5, 1))])  # span the panel
    add_cases(engine, [case(area="S1C2", on=D(2024, 1, 1), outcome="agreement", parties=1, amount=0.0)])
    return engine


@pytest.mark.parametrize(("people", "level", "expected"), [
    (COLLECTIVE_MIN_PEOPLE, "county", 1.0), (COLLECTIVE_MIN_PEOPLE - 1, "county", 0.0),
    (1, "city", 1.0), (1, "province", 1.0), (1, "national", 1.0), (1, "street", 0.0), (None, None, 0.0),
])
def test_escalation_by_petition_routes(town, people, level, expected) -> None:
    add_petitions(town, [petition(area="S0C1", on=D(2024, 3, 6), people=people, level_reached=level)])
    assert _label(town) == expected


@pytest.mark.parametrize(("dispute_type", "parties", "amount", "outcome", "expected"), [
    ("land_demolition", 2, 0.0, "failed", 1.0), ("marriage_family", 6, 0.0, "failed", 1.0),
    ("marriage_family", 2, 150_000.0, "failed", 1.0), ("marriage_family", 2, 1_000.0, "failed", 0.0),
    ("labour_wages", 9, 0.0, "agreement", 0.0), ("labour_wages", 9, 0.0, "referred", 0.0),
])
def test_escalation_by_failed_serious_mediation(town, dispute_type, parties, amount, outcome, expected) -> None:
    # opened weeks earlier: a failure counts when the case closes
    add_cases(town, [case(area="S0C1", on=D(2024, 1, 10), closed_on=D(2024, 3, 7), recorded=D(2024, 3, 8), outcome=outcome,
                          dispute_type=dispute_type, parties=parties, amount=amount)])
    assert _label(town) == expected
    assert _label(town, period=WEEK - pd.Timedelta(weeks=8)) == 0.0


def test_category_count_threshold(town) -> None:
    add_petitions(town, [petition(area="S0C1", on=D(2024, 3, 5), category="medical"),
                         petition(area="S0C1", on=D(2024, 3, 9), category="medical"),
                         petition(area="S0C1", on=D(2024, 3, 9), category="labour_wages")])
    count = lambda categories, threshold: _label(town, PanelSpec(label=LabelSpec(  # noqa: E731
        kind="category_count", categories=categories, threshold=threshold)))
    assert count(("medical",), 2) == 1.0
    assert count(("medical",), 3) == 0.0
    assert count(("medical", "labour_wages"), 3) == 1.0
    assert count(("environment",), 1) == 0.0


@pytest.mark.parametrize("horizon", [1, 2, 3, 4])
def test_horizon_covers_the_next_periods_and_leaves_the_last_unknown(town, horizon: int) -> None:
    add_petitions(town, [petition(area="S0C1", on=D(2024, 3, 6), people=9)])
    panel = build_panel(town, spec=PanelSpec(label=LabelSpec(horizon=horizon)))
    mine = panel[panel["area_id"] == "S0C1"].set_index("period_start")["label"]
    hit = mine.index.get_loc(WEEK)
    positive = [i for i, value in enumerate(mine.to_numpy()) if value == 1.0]
    assert positive == list(range(hit - horizon + 1 - LABEL_OFFSET, hit + 1 - LABEL_OFFSET))
    assert mine.iloc[-horizon:].isna().all() and mine.iloc[:-horizon].notna().all()
    assert (panel.groupby("period_start")["label"].apply(lambda s: s.isna().all()).sum()) == horizon


def test_label_from_events_is_a_windowed_sum() -> None:
    events = np.array([[0, 1, 0, 0, 2, 0]], dtype=float)
    got = label_from_events(events, spec=LabelSpec(horizon=2), observed_periods=5)
    np.testing.assert_array_equal(got, [[1, 1, 0, 1, np.nan, np.nan]])
    got = label_from_events(events, spec=LabelSpec(kind="category_count", categories=("x",), threshold=2, horizon=1), observed_periods=6)
    np.testing.assert_array_equal(got, [[0, 0, 0, 0, 1, 0]])


@pytest.mark.parametrize("bad", [dict(horizon=0), dict(horizon=5), dict(threshold=0), dict(kind="category_count"), dict(kind="riot")])
def test_label_spec_refuses_nonsense(bad) -> None:
    with pytest.raises(ValueError):
        LabelSpec(**bad)


def test_labels_use_the_latest_version(town) -> None:
    add_petitions(town, [petition(area="S0C1", on=D(2024, 3, 6), pid="X", people=9)])
    assert _label(town) == 1.0
    add_petitions(town, [petition(area="S0C1", on=D(2024, 3, 6), recorded=D(2024, 4, 2), pid="X", version=2, people=2)])
    assert _label(town) == 0.0
