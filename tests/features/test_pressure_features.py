"""Features of the pressure an area is under right now: serious disputes still in mediation, policies in force,
and escalations next door last week. Values computed by hand from a few records."""

from __future__ import annotations

import pandas as pd

from features.pipeline import PanelSpec, build_panel
from tests.features.factories import D, add_cases, add_petitions, add_policy, case, city, petition


def _area(panel: pd.DataFrame, area: str) -> pd.DataFrame:
    return panel[panel["area_id"] == area].set_index("period_start")


def test_serious_disputes_in_mediation_count_while_known_open(engine) -> None:
    city(engine)
    add_petitions(engine, [petition(area="S1C2", on=D(2024, 1, 1)), petition(area="S1C2", on=D(2025, 3, 1))])
    add_cases(engine, [
        # serious by family, entered when opened, closed (failed) on 5 March and corrected the next day
        case(area="S0C0", on=D(2024, 2, 5), cid="A", dispute_type="labour_wages", outcome="pending"),
        case(area="S0C0", on=D(2024, 2, 5), recorded=D(2024, 3, 6), cid="A", version=2, dispute_type="labour_wages",
             outcome="failed", closed_on=D(2024, 3, 5)),
        case(area="S0C0", on=D(2024, 2, 6), cid="B", parties=6, outcome="pending"),  # serious by parties, never closed
        case(area="S0C0", on=D(2024, 2, 6), cid="C", parties=2, outcome="pending"),  # not serious
        # serious, but its committee files a case only when it closes: never seen open
        case(area="S0C0", on=D(2024, 2, 7), recorded=D(2024, 3, 20), cid="D", dispute_type="environment",
             outcome="agreement", closed_on=D(2024, 3, 19)),
    ])
    mine = _area(build_panel(engine, spec=PanelSpec()), "S0C0")
    serious = mine["med_serious_open_backlog_52w"]
    assert serious[pd.Timestamp("2024-02-05")] == 0  # opened that week: not yet known
    assert serious[pd.Timestamp("2024-02-12")] == 2 and mine.loc[pd.Timestamp("2024-02-12"), "med_open_backlog_52w"] == 3
    assert serious[pd.Timestamp("2024-03-04")] == 2  # A's closing is recorded on 6 March
    assert serious[pd.Timestamp("2024-03-11")] == 1
    assert serious[pd.Timestamp("2024-03-25")] == 1  # D is known now, but closed
    assert serious[pd.Timestamp("2025-02-10")] == 0  # B has left the 52-week window


def test_policies_count_from_announcement_until_half_a_year_after_taking_effect(engine) -> None:
    city(engine)
    add_petitions(engine, [petition(area="S1C2", on=D(2024, 1, 1)), petition(area="S1C2", on=D(2024, 12, 1))])
    add_policy(engine, pid="P1", kind="land_requisition", announced=D(2024, 1, 10), effective=D(2024, 3, 1),
               area_ids=["S0C0"], compensation_ratio=0.6, hearing_held=False, households_affected=100)
    add_policy(engine, pid="P2", kind="relocation", announced=D(2024, 4, 3), effective=D(2024, 5, 1),
               area_ids=["S0C0", "S0C1"], compensation_ratio=1.2, hearing_held=True)
    panel = build_panel(engine, spec=PanelSpec())
    mine, other = _area(panel, "S0C0"), _area(panel, "S0C1")
    n = mine["pol_in_force_n"]
    assert n[pd.Timestamp("2024-01-08")] == 0 and n[pd.Timestamp("2024-01-15")] == 1  # announced on Wednesday 10 January
    assert n[pd.Timestamp("2024-08-26")] == 2  # 26 weeks after the week P1 took effect (26 February)
    assert n[pd.Timestamp("2024-09-02")] == 1  # P1 is over, P2 lasts until 26 weeks after 29 April
    row = mine.loc[pd.Timestamp("2024-05-06")]
    assert row["pol_in_force_n"] == 2 and row["pol_in_force_no_hearing_n"] == 1
    assert abs(row["pol_in_force_shortfall"] - 0.4) < 1e-6 and row["pol_in_force_households"] == 100  # P2: none given
    assert other.loc[pd.Timestamp("2024-05-06"), "pol_in_force_shortfall"] == 0  # compensation above the loss
    assert other.loc[pd.Timestamp("2024-05-06"), "pol_in_force_n"] == 1
    assert n[pd.Timestamp("2024-11-04")] == 0


def test_last_weeks_escalations_next_door(engine) -> None:
    city(engine)
    add_petitions(engine, [petition(area="S1C2", on=D(2024, 1, 1), level_reached="county"),
                           petition(area="S0C0", on=D(2024, 2, 6), people=30), petition(area="S1C2", on=D(2024, 6, 1))])
    panel = build_panel(engine, spec=PanelSpec())
    sibling = _area(panel, "S0C1")
    assert sibling.loc[pd.Timestamp("2024-02-12"), "par_esc_n_1w"] == 0.5  # one escalation among its two siblings
    assert sibling.loc[pd.Timestamp("2024-02-19"), "par_esc_n_1w"] == 0
    assert sibling.loc[pd.Timestamp("2024-02-19"), "par_esc_n_4w"] == 0.5
    assert sibling.loc[pd.Timestamp("2024-02-05"), "par_esc_n_4w"] == 0
    week = panel[panel["period_start"] == pd.Timestamp("2024-02-12")].set_index("area_id")["nbr_esc_n_1w"]
    assert week.max() > 0 and week["S0C0"] == 0  # its neighbours see it; its own escalation is not its neighbours'
