"""The panel's shape: every area and period, partial data, month periods, week start, time zone."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from features.catalogue import catalogue
from features.pipeline import INDEX, LABEL, PanelSpec, build_panel, check_panel, feature_columns
from tests.features.factories import D, add_cases, add_petitions, city, petition, case


def test_every_area_and_period_gets_a_row_and_dtypes_hold(full_engine) -> None:
    panel = build_panel(full_engine, spec=PanelSpec())
    areas, periods = panel["area_id"].nunique(), panel["period_start"].nunique()
    assert len(panel) == areas * periods == 6 * periods
    assert isinstance(panel["area_id"].dtype, pd.CategoricalDtype)
    assert panel["period_start"].dtype == np.dtype("datetime64[ns]")
    assert (panel["period_start"].dt.dayofweek == 0).all()
    assert {panel[c].dtype for c in feature_columns(panel)} == {np.dtype("float32")}
    assert panel[LABEL].dtype == np.float64
    specs = {s.name: s for s in catalogue("week")}
    for column in feature_columns(panel):  # NaN only where the catalogue says so
        if panel[column].isna().any():
            assert specs[column].missing, column


def test_areas_without_records_get_zero_counts(engine) -> None:
    city(engine)
    add_petitions(engine, [petition(area="S0C0", on=D(2024, 1, 3), people=1, level_reached="county"),
                           petition(area="S0C0", on=D(2024, 3, 3))])
    panel = build_panel(engine, spec=PanelSpec())
    quiet = panel[panel["area_id"] == "S1C2"]
    assert len(quiet) == panel["period_start"].nunique()
    assert (quiet["pet_total_n_52w"] == 0).all() and (quiet["label"].dropna() == 0).all()
    assert quiet["pet_repeat_share_13w"].isna().all() if "pet_repeat_share_13w" in quiet else True


def test_partial_data_leaves_missing_kinds_absent(engine) -> None:
    city(engine, neighbours=False)
    add_petitions(engine, [petition(area="S0C0", on=D(2024, 1, 3)), petition(area="S0C1", on=D(2024, 2, 3))])
    panel = build_panel(engine, spec=PanelSpec())
    columns = set(feature_columns(panel))
    families = {s.family for s in catalogue("week") if s.name in columns}
    assert {"counts", "seasonality", "spatial"} <= families
    assert not families & {"population", "policy", "origin", "rates"}
    assert not any(c.startswith(("med_", "nbr_", "pop_", "pol_")) for c in columns)
    assert "pet_collective_share_13w" not in columns  # people never given: no fake zeros
    assert "esc_n_4w" not in columns
    assert panel[LABEL].notna().any()


def test_month_periods(full_engine) -> None:
    panel = build_panel(full_engine, spec=PanelSpec(period="month"))
    assert (panel["period_start"].dt.day == 1).all()
    assert "pet_total_n_3m" in panel and "pet_total_n_4w" not in panel
    assert feature_columns(panel)[0] == "pet_total_n_1m"
    monthly = panel.groupby("period_start")["pet_total_n_1m"].sum()
    assert monthly.sum() > 0


def test_sunday_weeks(engine) -> None:
    city(engine)
    sunday = D(2024, 3, 10)
    add_petitions(engine, [petition(area="S0C0", on=D(2024, 1, 3)), petition(area="S0C1", on=sunday),
                           petition(area="S0C0", on=D(2024, 4, 3))])
    panel = build_panel(engine, spec=PanelSpec(week_start="sunday"))
    assert (panel["period_start"].dt.dayofweek == 6).all()
    mine = panel[panel["area_id"] == "S0C1"].set_index("period_start")["pet_total_n_1w"]
    assert mine[pd.Timestamp(sunday) + pd.Timedelta(weeks=1)] == 1 and mine[pd.Timestamp(sunday)] == 0


def test_records_dated_after_local_today_do_not_extend_the_panel(engine) -> None:
    city(engine)
    add_petitions(engine, [petition(area="S0C0", on=D(2024, 1, 3)), petition(area="S0C0", on=D(2024, 1, 5), recorded=D(2099, 1, 1))])
    spec = PanelSpec(timezone="Pacific/Kiritimati")  # UTC+14: the first place where a day starts
    panel = build_panel(engine, spec=spec)
    assert panel["period_start"].max() <= pd.Timestamp(spec.local_today())


def test_records_on_grids_roll_up_and_higher_records_are_reported(engine) -> None:
    city(engine, grids=True)
    add_petitions(engine, [petition(area="S0C0G0", on=D(2024, 1, 3)), petition(area="S0", on=D(2024, 1, 4))])
    panel = build_panel(engine, spec=PanelSpec())
    assert set(panel["area_id"].unique()) == {f"S{s}C{c}G0" for s in range(2) for c in range(3)}
    assert panel.attrs["dropped_records"] == 1


def test_check_panel_refuses_broken_frames(full_engine) -> None:
    panel = build_panel(full_engine, spec=PanelSpec())
    with pytest.raises(ValueError):
        check_panel(pd.concat([panel, panel.iloc[:1]]))
    with pytest.raises(ValueError):
        check_panel(panel.assign(mystery=1.0))
    with pytest.raises(TypeError):
        check_panel(panel.assign(period_start=panel["period_start"].dt.tz_localize("UTC")))
    with pytest.raises(ValueError):
        check_panel(panel.drop(columns=[LABEL]))
    assert list(INDEX) == ["area_id", "period_start"]


def test_no_records_is_a_clear_error(engine) -> None:
    city(engine)
    with pytest.raises(LookupError, match="no petitions"):
        build_panel(engine, spec=PanelSpec())


def test_corrections_use_the_version_known_at_each_period(engine) -> None:
    city(engine)
    add_petitions(engine, [petition(area="S1C2", on=D(2024, 1, 1)), petition(area="S1C2", on=D(2024, 6, 1))])
    add_petitions(engine, [petition(area="S0C0", on=D(2024, 2, 5), pid="Z", category="medical"),
                           petition(area="S0C0", on=D(2024, 2, 5), recorded=D(2024, 3, 6), pid="Z", version=2,
                                    category="land_demolition")])
    add_cases(engine, [case(area="S0C0", on=D(2024, 2, 5), cid="K", outcome="pending"),
                       case(area="S0C0", on=D(2024, 2, 5), recorded=D(2024, 2, 20), cid="K", version=2, outcome="agreement",
                            closed_on=D(2024, 2, 20))])
    mine = build_panel(engine, spec=PanelSpec()).query("area_id == 'S0C0'").set_index("period_start")
    before, after = pd.Timestamp("2024-02-12"), pd.Timestamp("2024-03-11")
    assert mine.loc[before, "pet_medical_n_13w"] == 1 and mine.loc[before, "pet_land_demolition_n_13w"] == 0
    assert mine.loc[after, "pet_medical_n_13w"] == 0 and mine.loc[after, "pet_land_demolition_n_13w"] == 1
    assert mine.loc[pd.Timestamp("2024-03-04"), "pet_medical_n_13w"] == 1  # corrected on 6 March: not yet known
    assert mine.loc[before, "med_open_backlog_52w"] == 1 and mine.loc[after, "med_open_backlog_52w"] == 0
    assert mine.loc[after, "med_agreement_share_52w"] == 1.0


def test_late_entries_never_reach_back(engine) -> None:
    city(engine)
    add_petitions(engine, [petition(area="S1C2", on=D(2024, 1, 1)), petition(area="S1C2", on=D(2024, 6, 1)),
                           petition(area="S0C0", on=D(2024, 2, 5), recorded=D(2024, 4, 1), people=30)])
    mine = build_panel(engine, spec=PanelSpec()).query("area_id == 'S0C0'").set_index("period_start")
    assert (mine.loc[: pd.Timestamp("2024-04-01"), "pet_total_n_52w"] == 0).all()
    assert mine.loc[pd.Timestamp("2024-04-08"), "pet_total_n_52w"] == 1
    assert mine.loc[pd.Timestamp("2024-02-05"), "label"] == 1.0  # the label knows what happened that week
    assert dt.date(2024, 4, 8) in set(mine.index.date)
