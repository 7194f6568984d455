"""The records keep the contracts' promises: value sets, date orders, corrections, hierarchy."""

from __future__ import annotations

import numpy as np
import pandas as pd

from features.contracts import (
    COLLECTIVE_MIN_PEOPLE, CROSS_LEVELS, DISPUTE_FAMILIES, MEDIATION_ORIGINS, MEDIATION_OUTCOMES,
    PETITION_CHANNELS, PETITION_LEVELS, POLICY_TYPES, SERIOUS_FAMILIES, SERIOUS_MIN_AMOUNT, SERIOUS_MIN_PARTIES,
)
from tests.simulation.conftest import CITY, final_versions


def test_hierarchy_and_adjacency(city) -> None:
    areas = city["areas"]
    assert areas["area_id"].is_unique
    levels = areas.set_index("area_id")["level"]
    parent_level = areas["parent_id"].map(levels)
    expected = {"district": "city", "street": "district", "community": "street"}
    for level, parent in expected.items():
        assert (parent_level[areas["level"] == level] == parent).all()
    assert (areas["level"] == "community").sum() == CITY.communities
    assert areas.loc[areas["level"] == "community", "geometry"].str.startswith('{"type":"Polygon"').all()
    adj = city["adjacency"]
    pairs = set(zip(adj["area_id"], adj["neighbor_id"]))
    assert all((b, a) in pairs for a, b in pairs) and not any(a == b for a, b in pairs)


def test_value_sets_and_date_orders(city) -> None:
    communities = set(city["areas"].loc[city["areas"]["level"] == "community", "area_id"])
    for stem in ("petitions", "petitions_corrections"):
        p = city[stem]
        assert set(p["area_id"]) <= communities
        assert set(p["category"]) <= set(DISPUTE_FAMILIES)
        assert set(p["channel"]) <= set(PETITION_CHANNELS) and set(p["level_reached"]) <= set(PETITION_LEVELS)
        assert (p["recorded_on"] >= p["received_on"]).all()
        closed = p["closed_on"].notna()
        assert (p.loc[closed, "closed_on"] >= p.loc[closed, "received_on"]).all()
        assert (p["people"] >= 1).all()
    for stem in ("mediation", "mediation_corrections"):
        m = city[stem]
        assert set(m["area_id"]) <= communities and set(m["dispute_type"]) <= set(DISPUTE_FAMILIES)
        assert set(m["outcome"]) <= set(MEDIATION_OUTCOMES) and set(m["origin"]) <= set(MEDIATION_ORIGINS)
        assert (m["recorded_on"] >= m["opened_on"]).all()
        closed = m["closed_on"].notna()
        assert (m.loc[closed, "closed_on"] >= m.loc[closed, "opened_on"]).all()
        assert (m["closed_on"].isna() == (m["outcome"] == "pending")).all()
    assert city["petitions"]["petition_id"].is_unique and city["mediation"]["case_id"].is_unique
    pol = city["policies"]
    assert set(pol["type"]) <= set(POLICY_TYPES) and (pol["effective_on"] >= pol["announced_on"]).all()
    assert pol["areas"].str.split(";").explode().isin(communities).all()
    pop = city["population"]
    assert (pop["period_start"].dt.dayofweek == 0).all()
    assert len(pop) == CITY.communities * CITY.weeks and not pop.duplicated(["area_id", "period_start"]).any()
    assert (pop["registered"] + pop["migrants"] == pop["residents"]).all()
    assert pop[["elderly_share", "rental_share"]].stack().between(0, 1).all()


def test_corrections_resend_ids_later(city) -> None:
    for stem, key in (("petitions", "petition_id"), ("mediation", "case_id")):
        originals = city[stem].set_index(key)
        corrections = city[f"{stem}_corrections"]
        assert corrections[key].is_unique and corrections[key].isin(originals.index).all()
        assert (corrections["recorded_on"].to_numpy() > originals.loc[corrections[key], "recorded_on"].to_numpy()).all()
        changed = (corrections.set_index(key).astype(str) != originals.loc[corrections[key]].astype(str)).any(axis=1)
        assert changed.all(), f"every {stem} correction changes something"
    pet_corr = city["petitions_corrections"].set_index("petition_id")
    reclassified = (pet_corr["category"] != city["petitions"].set_index("petition_id").loc[pet_corr.index, "category"])
    assert 0.02 < reclassified.sum() / len(city["petitions"]) < 0.06  # misclassified 4%
    filled = city["mediation_corrections"]["outcome"] != "pending"
    assert filled.all()


def test_late_entry_rates(city) -> None:
    p = city["petitions"]
    delay = (p["recorded_on"] - p["received_on"]).dt.days
    assert 0.40 < (delay == 0).mean() < 0.50
    assert 0.06 < (delay >= 14).mean() < 0.10 and delay.max() <= 42


def test_labels_from_records_equal_truth(city) -> None:
    """The realised escalation in truth is exactly the DESIGN.md label computed from the final records."""
    pet = final_versions(city["petitions"], city["petitions_corrections"], "petition_id")
    med = final_versions(city["mediation"], city["mediation_corrections"], "case_id")
    escalating = pet[(pet["people"] >= COLLECTIVE_MIN_PEOPLE) | pet["level_reached"].isin(CROSS_LEVELS)]
    serious = (med["dispute_type"].isin(SERIOUS_FAMILIES) | (med["parties"] >= SERIOUS_MIN_PARTIES)
               | (med["amount"].fillna(0) >= SERIOUS_MIN_AMOUNT))
    failed = med[(med["outcome"] == "failed") & serious]
    events = pd.concat([
        pd.DataFrame({"area_id": escalating["area_id"], "day": escalating["received_on"]}),
        pd.DataFrame({"area_id": failed["area_id"], "day": failed["closed_on"]}),
    ])
    events["period_start"] = events["day"] - pd.to_timedelta(events["day"].dt.dayofweek, unit="D")
    labelled = set(zip(events["area_id"], events["period_start"]))
    truth = city["truth_area_weeks"]
    # The export holds what was entered before export_on; weeks whose events
    # could still be entered later (42 days' entry delay + 7 days' closing
    # lag) are incomplete by design, like a live system's last weeks.
    complete = truth["period_start"] < pd.Timestamp(CITY.export_on) - pd.Timedelta(days=49)
    truth = truth[complete]
    from_records = np.array([(a, p) in labelled for a, p in zip(truth["area_id"], truth["period_start"])])
    assert (from_records == truth["escalated"].to_numpy()).all()


def test_export_holds_only_what_was_entered_before_export_day(city) -> None:
    export_on = pd.Timestamp(CITY.export_on)
    for stem in ("petitions", "petitions_corrections", "mediation", "mediation_corrections"):
        assert (city[stem]["recorded_on"] < export_on).all(), stem
