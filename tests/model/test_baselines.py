"""Baselines: hand-computed values, and no information from at or after the period they score."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from models import baselines as bl

NAN = np.nan


def panel_of(labels: dict[str, list[float]], *, freq: str = "7D") -> pd.DataFrame:
    n = len(next(iter(labels.values())))
    starts = pd.date_range("2024-01-01", periods=n, freq=freq)
    return pd.DataFrame({
        "area_id": pd.Categorical(np.repeat(list(labels), n)), "period_start": np.tile(starts, len(labels)),
        "label": np.concatenate([np.asarray(v, float) for v in labels.values()]),
    })


def test_history_baselines_by_hand() -> None:
    panel = panel_of({"A": [1, 0, 1, 1, NAN]})
    assert bl.last_known(panel, target="label", lag=1).tolist() == [0, 1, 0, 1, 1]
    assert bl.last_known(panel, target="label", lag=2).tolist() == [0, 0, 1, 0, 1]
    assert bl.moving_average(panel, target="label", lag=1, window=2).tolist() == [0, 1, 0.5, 0.5, 1]
    assert bl.long_run_rate(panel, target="label", lag=1, prior=5)[2] == pytest.approx((1 + 5 * 0.5) / (2 + 5))


def test_unknown_history_falls_back_on_what_everyone_knows() -> None:
    panel = panel_of({"A": [1, 1, 1], "B": [NAN, NAN, 0]})
    assert bl.last_known(panel, target="label", lag=1)[3:].tolist() == [0, 1, 1]  # B's row at t: mean known at t
    assert bl.known_lag(horizon=4, label_offset=1) == 5


def test_kernel_hotspot_blends_neighbours_by_hand() -> None:
    panel = panel_of({"A": [1, 1, 1], "B": [0, 0, 0], "C": [1, 0, 1]})
    adjacency = pd.DataFrame({"area_id": ["A", "B"], "neighbor_id": ["B", "A"]})
    score = bl.kernel_hotspot(panel, target="label", lag=1, adjacency=adjacency, half_life=1e9, neighbour_weight=0.5)
    at_2 = score[panel["period_start"] == panel["period_start"].max()]
    assert at_2 == pytest.approx([0.5, 0.5, 0.5])  # A: .5*1 + .5*0; B: .5*0 + .5*1; C alone: its own mean .5


def test_hawkes_finds_self_excitation_only_where_there_is_some() -> None:
    rng = np.random.default_rng(0)
    n, weeks = 40, 120
    exciting, iid = np.zeros((n, weeks)), (rng.random((n, weeks)) < 0.1).astype(float)
    for t in range(weeks):
        recent = exciting[:, max(0, t - 3):t].sum(axis=1)
        exciting[:, t] = rng.random(n) < 1 - np.exp(-(0.03 + 0.5 * recent))
    for series, excited in ((exciting, True), (iid, False)):
        panel = panel_of({f"A{i}": list(series[i]) for i in range(n)})
        fit = bl.fit_hawkes(panel, target="label", lag=1, train=np.ones(len(panel), bool))
        assert (fit.alpha > 0.1) is excited
        p = bl.hawkes(panel, target="label", lag=1, fit=fit)
        assert np.all((p >= 0) & (p <= 1))


def test_oracle_joins_the_outcome_periods() -> None:
    panel = panel_of({"A": [0, 0, 0]})
    truth = panel[["area_id", "period_start"]].assign(p_escalation=[0.1, 0.2, 0.5])
    two = bl.oracle(panel, truth=truth, horizon=2, label_offset=0)
    assert two[:2] == pytest.approx([1 - 0.9 * 0.8, 1 - 0.8 * 0.5]) and np.isnan(two[2])
    assert bl.oracle(panel, truth=truth, horizon=1, label_offset=1)[0] == pytest.approx(0.2)


def test_monthly_periods_and_irregular_ones() -> None:
    months = pd.Series(pd.to_datetime(["2024-01-01", "2024-03-01", "2025-01-01"]))
    assert bl.period_positions(months).tolist() == [0, 2, 12]
    with pytest.raises(ValueError, match="weekly"):
        bl.period_positions(pd.Series(pd.to_datetime(["2024-01-01", "2024-01-03"])))
    monthly = panel_of({"A": [1, 0, 1]}, freq="MS")
    assert bl.last_known(monthly, target="label", lag=1).tolist() == [0, 1, 0]


def scorers(adjacency: pd.DataFrame, fit: bl.HawkesFit) -> dict:
    return {
        "last": lambda p, lag: bl.last_known(p, target="label", lag=lag),
        "moving_average": lambda p, lag: bl.moving_average(p, target="label", lag=lag),
        "long_run": lambda p, lag: bl.long_run_rate(p, target="label", lag=lag),
        "kernel": lambda p, lag: bl.kernel_hotspot(p, target="label", lag=lag, adjacency=adjacency),
        "hawkes": lambda p, lag: bl.hawkes(p, target="label", lag=lag, fit=fit),
    }


@settings(max_examples=60, deadline=None)
@given(
    areas=st.integers(2, 4), periods=st.integers(4, 12), lag=st.integers(1, 5), data=st.data(),
)
def test_no_baseline_reads_the_future(areas: int, periods: int, lag: int, data: st.DataObject) -> None:
    """Changing labels not yet known at t, or records at or after t, never moves a score at t."""
    cell = st.sampled_from([0.0, 1.0, NAN])
    labels = {f"A{i}": data.draw(st.lists(cell, min_size=periods, max_size=periods)) for i in range(areas)}
    panel = panel_of(labels).assign(feature=0.0)
    t = data.draw(st.integers(0, periods - 1))
    position = bl.period_positions(panel["period_start"])
    unknown = position + lag > t  # outcome not complete when period t starts
    changed = panel.copy()
    changed.loc[unknown, "label"] = data.draw(st.lists(cell, min_size=int(unknown.sum()), max_size=int(unknown.sum())))
    changed.loc[position >= t, "feature"] = 99.0
    adjacency = pd.DataFrame({"area_id": ["A0", "A1"], "neighbor_id": ["A1", "A0"]})
    fit = bl.HawkesFit(mu=0.05, alpha=0.4, decay=0.3)
    at_t = position == t
    for name, score in scorers(adjacency, fit).items():
        before, after = score(panel, lag)[at_t], score(changed, lag)[at_t]
        assert np.allclose(before, after, equal_nan=True), name
