"""The mechanisms are present and recoverable from the records, and the truth is honest."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from features.calendar import days_to_spring_festival, period_start
from features.simulation import SimulationConfig
from tests.simulation.conftest import CITY


def weekly_counts(city, family: str | None = None) -> pd.DataFrame:
    """Petitions received + mediation cases opened per community (rows) and week (columns)."""
    pet, med = city["petitions"], city["mediation"]
    if family:
        pet, med = pet[pet["category"] == family], med[med["dispute_type"] == family]
    days = pd.concat([pet[["area_id", "received_on"]].set_axis(["area_id", "day"], axis=1),
                      med[["area_id", "opened_on"]].set_axis(["area_id", "day"], axis=1)])
    days["week"] = period_start(days["day"], "week")
    weeks = pd.date_range(pd.Timestamp(CITY.start), periods=CITY.weeks, freq="7D")
    ids = city["areas"].loc[city["areas"]["level"] == "community", "area_id"]
    return days.groupby(["area_id", "week"]).size().unstack(fill_value=0).reindex(index=ids, columns=weeks, fill_value=0)


def test_escalation_rate_in_documented_range(city) -> None:
    truth = city["truth_area_weeks"]
    rate = truth["escalated"].mean()
    assert 0.02 <= rate <= 0.06
    assert abs(truth["p_escalation"].mean() - rate) < 0.004  # p is the probability of that label


def test_p_escalation_is_calibrated(city) -> None:
    truth = city["truth_area_weeks"]
    bins = pd.qcut(truth["p_escalation"], 10, duplicates="drop")
    table = truth.groupby(bins, observed=True).agg(p=("p_escalation", "mean"), y=("escalated", "mean"),
                                                   n=("escalated", "size"))
    se = np.sqrt(table["p"] * (1 - table["p"]) / table["n"])
    assert (np.abs(table["y"] - table["p"]) < 4 * se + 0.002).all(), table


def test_oracle_hit_rate(city) -> None:
    truth = city["truth_area_weeks"]
    cut = truth["p_escalation"].quantile(0.95)
    hit = truth.loc[truth["p_escalation"] >= cut, "escalated"].sum() / truth["escalated"].sum()
    assert 0.15 < hit < 0.8  # far above the 5% of a random flag, far from perfect


def test_wage_arrears_peak_before_spring_festival(city) -> None:
    counts = weekly_counts(city, "labour_wages").sum(axis=0)
    mid = counts.index + pd.Timedelta(days=3)
    before = days_to_spring_festival(mid)
    peak = counts[(before >= 3) & (before <= 31)].mean()
    rest = counts[(before > 60) & (before < 300)].mean()
    assert peak > 1.5 * rest
    assert counts.idxmax().month in (12, 1, 2)


def test_construction_season_land_disputes(city) -> None:
    counts = weekly_counts(city, "land_demolition").sum(axis=0)
    in_season = counts[counts.index.month.isin(range(3, 11))].mean()
    assert in_season > 1.4 * counts[~counts.index.month.isin(range(3, 11))].mean()


def test_neighbours_correlate_more_than_strangers(city) -> None:
    counts = weekly_counts(city).to_numpy(float)
    smooth = pd.DataFrame(counts.T).rolling(4, min_periods=1).mean().to_numpy().T
    z = smooth - smooth.mean(axis=1, keepdims=True)
    z /= np.maximum(z.std(axis=1, keepdims=True), 1e-9)
    ids = list(weekly_counts(city).index)
    pos = {a: i for i, a in enumerate(ids)}
    adj = city["adjacency"]
    a, b = adj["area_id"].map(pos).to_numpy(), adj["neighbor_id"].map(pos).to_numpy()
    neighbour = np.mean((z[a] * z[b]).mean(axis=1))
    rng = np.random.default_rng(0)
    x, y = rng.integers(0, len(ids), 3000), rng.integers(0, len(ids), 3000)
    linked = set(zip(a, b))
    keep = np.array([i != j and (i, j) not in linked for i, j in zip(x, y)])
    stranger = np.mean((z[x[keep]] * z[y[keep]]).mean(axis=1))
    assert neighbour > stranger + 0.03, (neighbour, stranger)


def test_heavy_tail_of_activity(city) -> None:
    per_community = weekly_counts(city).sum(axis=1).sort_values(ascending=False)
    top = per_community.iloc[: len(per_community) // 10].sum() / per_community.sum()
    assert top > 0.25  # the top 10% of communities carry over a quarter of the records
    escalations = city["truth_area_weeks"].groupby("area_id")["escalated"].sum()
    assert (escalations == 0).mean() > 0.1 or escalations.quantile(0.5) < escalations.quantile(0.95) / 3


def test_policy_uplift_matches_truth(city) -> None:
    """Difference in differences, pooled over policies: affected vs other communities, window vs before."""
    truth = city["truth_policies"]
    areas = city["policies"].set_index("policy_id")["areas"].str.split(";")
    start, end = pd.Timestamp(CITY.start), pd.Timestamp(CITY.end)
    observed = expected = weighted_truth = 0.0
    cache: dict[str, pd.DataFrame] = {}
    for row in truth.itertuples(index=False):
        first, last = pd.Timestamp(row.effect_start), pd.Timestamp(row.effect_end)
        length = (last - first).days // 7 + 1
        pre_first = first - pd.Timedelta(weeks=length)
        if pre_first < start or last > end:
            continue
        counts = cache.setdefault(row.family, weekly_counts(city, row.family))
        affected = counts.index.isin(areas[row.policy_id])
        window = (counts.columns >= first) & (counts.columns <= last)
        before = (counts.columns >= pre_first) & (counts.columns < first)
        a_win, a_pre = counts.loc[affected, window].to_numpy().sum(), counts.loc[affected, before].to_numpy().sum()
        c_win, c_pre = counts.loc[~affected, window].to_numpy().sum(), counts.loc[~affected, before].to_numpy().sum()
        if a_pre == 0 or c_pre == 0:
            continue
        counterfactual = a_pre * c_win / c_pre
        observed += a_win
        expected += counterfactual
        weighted_truth += counterfactual * row.multiplier
    assert expected > 50, "too few policies to check"
    uplift, true_uplift = observed / expected, weighted_truth / expected
    assert true_uplift > 1.3
    assert 0.75 * true_uplift < uplift < 1.35 * true_uplift, (uplift, true_uplift)


def test_expected_counts_match_records(city) -> None:
    truth = city["truth_area_weeks"]
    assert abs(len(city["petitions"]) / truth["expected_petitions"].sum() - 1) < 0.03
    assert abs(len(city["mediation"]) / truth["expected_mediation"].sum() - 1) < 0.03
    by_family = [c for c in truth.columns if c.startswith("expected_petitions_")]
    assert np.allclose(truth[by_family].sum(axis=1), truth["expected_petitions"], atol=0.01)


def test_population_changes(city) -> None:
    pop = city["population"]
    first, last = pop["period_start"].min(), pop["period_start"].max()
    a, b = pop[pop["period_start"] == first].set_index("area_id"), pop[pop["period_start"] == last].set_index("area_id")
    assert (a["residents"] != b["residents"]).mean() > 0.9
    assert b["elderly_share"].mean() > a["elderly_share"].mean()
    assert (b["residents"] / a["residents"]).between(0.7, 1.4).all()
    assert 10_000 < pop["residents"].median() < 40_000  # DESIGN.md: 10,000-40,000 residents
    jumps = pop.sort_values(["area_id", "period_start"]).groupby("area_id")["unemployed"].diff()
    assert (jumps > 150).sum() > 0, "a factory closure somewhere raises unemployment"
    festival = pop[pop["period_start"] == pd.Timestamp(dt.date(2024, 2, 5))]["migrants"].sum()
    autumn = pop[pop["period_start"] == pd.Timestamp(dt.date(2023, 11, 6))]["migrants"].sum()
    assert festival < 0.8 * autumn  # migrants go home for the Spring Festival


def test_an_escalation_excites_its_community_and_neighbours() -> None:
    from features.simulation.geography import build_city
    from features.simulation.tension import Tension

    config = SimulationConfig(communities=36)
    city = build_city(36, np.random.default_rng(0))
    zeros = np.zeros((36, 13))
    state = Tension.initial(city, config, np.random.default_rng(1))
    escalations = zeros.copy()
    escalations[14, 5] = 1  # one collective petition in community 14, family 5
    state.advance(city, config, np.random.default_rng(2), escalations=escalations, agreements=zeros,
                  failures=zeros, backlog=zeros, closure_shock=np.zeros(36))
    neighbours = city.edges_dst[city.edges_src == 14]
    assert state.e[14, 5] == config.feedback.self_excitation
    assert (state.e[neighbours, 5] > 0).all()
    others = np.setdiff1d(np.arange(36), np.r_[14, neighbours])
    assert (state.e[others] == 0).all() and (state.e[:, [f for f in range(13) if f != 5]] == 0).all()
