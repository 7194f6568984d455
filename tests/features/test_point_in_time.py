"""Leakage: features at period t never see what was recorded on or after t starts.

The property test generates a history, a cut-off period and "future"
changes (new records, corrections of old records) all recorded on or after
the cut-off, and checks that adding or removing them changes no feature at
any period up to the cut-off. The exact test checks the other half: a
record's effect appears exactly from the period after it was recorded.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from features.pipeline import INDEX, PanelSpec, build_panel, feature_columns
from features.storage.tables import mediation_cases, petitions
from tests.features.factories import D, add_cases, add_petitions, case, city, delete_all, petition

ORIGIN = D(2023, 1, 2)  # a Monday
AREAS = ["S0C0", "S0C1", "S0C2", "S1C0", "S1C1", "S1C2"]
CATEGORIES = ["labour_wages", "land_demolition", "medical", "local_code"]


def _petition(draw, *, earliest: int, latest: int, pid: str | None = None, version: int = 1) -> dict:
    received = draw(st.integers(0, latest))
    recorded = max(received, earliest) + draw(st.integers(0, 20))
    closed = draw(st.one_of(st.none(), st.integers(0, 30)))
    return petition(area=draw(st.sampled_from(AREAS)), on=ORIGIN + dt.timedelta(received), pid=pid, version=version,
                    recorded=ORIGIN + dt.timedelta(recorded), category=draw(st.sampled_from(CATEGORIES)),
                    people=draw(st.integers(1, 7)), level_reached=draw(st.sampled_from(["county", "city", None])),
                    is_repeat=draw(st.booleans()), closed_on=None if closed is None else ORIGIN + dt.timedelta(received + closed),
                    satisfied=draw(st.one_of(st.none(), st.booleans())))


@st.composite
def histories(draw) -> tuple[int, list[dict], list[dict], list[dict]]:
    cut = draw(st.integers(3, 14))  # the cut-off period index
    cut_day = 7 * cut
    base = [_petition(draw, earliest=0, latest=110, pid=f"B{i}") for i in range(draw(st.integers(1, 12)))]
    base = [row for row in base if (row["recorded_on"] - ORIGIN).days < 140]
    base.append(petition(area="S1C2", on=ORIGIN, recorded=ORIGIN, pid="ANCHOR"))  # the panel starts at ORIGIN
    future = [_petition(draw, earliest=cut_day, latest=120, pid=f"F{i}") for i in range(draw(st.integers(0, 5)))]
    for row in draw(st.lists(st.sampled_from(base), max_size=3, unique_by=lambda r: r["petition_id"])) if base else []:
        fix = _petition(draw, earliest=max(cut_day, (row["recorded_on"] - ORIGIN).days + 1), latest=120,
                        pid=row["petition_id"], version=2)
        future.append(fix)
    cases = [case(area=draw(st.sampled_from(AREAS)), on=ORIGIN + dt.timedelta(d), recorded=ORIGIN + dt.timedelta(max(d, cut_day) + 1),
                  outcome="failed", dispute_type="labour_wages", closed_on=ORIGIN + dt.timedelta(d + 2), origin="screened")
             for d in draw(st.lists(st.integers(0, 100), max_size=3))]
    return cut, base, future, cases


@pytest.fixture
def areas(engine):
    city(engine)
    return engine


def _rows_until(panel: pd.DataFrame, cut: int) -> pd.DataFrame:
    last = pd.Timestamp(ORIGIN + dt.timedelta(7 * cut))
    return panel[panel["period_start"] <= last].set_index(list(INDEX)).sort_index()


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(history=histories())
def test_records_recorded_from_t_on_never_change_features_at_t(areas, history) -> None:
    engine = areas
    cut, base, future, cases = history
    delete_all(engine, petitions)
    delete_all(engine, mediation_cases)
    add_petitions(engine, base)
    without = build_panel(engine, spec=PanelSpec())
    add_petitions(engine, future)
    add_cases(engine, cases)
    with_future = build_panel(engine, spec=PanelSpec())
    a, b = _rows_until(without, cut), _rows_until(with_future, cut)
    common = a.index.intersection(b.index)
    columns = [c for c in feature_columns(without) if c in set(feature_columns(with_future))]
    assert len(common) and columns
    pd.testing.assert_frame_equal(a.loc[common, columns], b.loc[common, columns])


@given(received=st.integers(0, 60), delay=st.integers(0, 40), week_start=st.sampled_from(["monday", "sunday"]))
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_a_record_counts_exactly_from_the_period_after_it_was_recorded(areas, received, delay, week_start) -> None:
    engine = areas
    delete_all(engine, petitions)
    anchors = dict(area="S1C2", people=1, level_reached="county")  # fix the panel's start and end, and the fields present
    add_petitions(engine, [petition(on=ORIGIN, **anchors), petition(on=D(2023, 12, 30), **anchors)])
    spec = PanelSpec(week_start=week_start)
    before = build_panel(engine, spec=spec).set_index(list(INDEX))
    on, recorded = ORIGIN + dt.timedelta(received), ORIGIN + dt.timedelta(received + delay)
    add_petitions(engine, [petition(area="S0C1", on=on, recorded=recorded, people=9)])
    after = build_panel(engine, spec=spec).set_index(list(INDEX))
    diff = (after["pet_total_n_52w"] - before["pet_total_n_52w"]).xs("S0C1", level="area_id")
    starts = diff.index
    shift = 0 if week_start == "monday" else 1
    period_of = lambda day: pd.Timestamp(day - dt.timedelta((day.weekday() + shift) % 7))  # noqa: E731
    first = period_of(recorded) + pd.Timedelta(weeks=1)
    last = period_of(on) + pd.Timedelta(weeks=52)
    expected = ((starts >= first) & (starts <= last)).astype(np.float32)
    np.testing.assert_array_equal(diff.to_numpy(), expected)
    esc = (after["esc_n_1w"] - before["esc_n_1w"]).xs("S0C1", level="area_id")
    assert esc.sum() == (1 if period_of(recorded) == period_of(on) else 0)
