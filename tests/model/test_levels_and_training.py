"""Levels, the honest holdout check, and scoring of every area."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from models.levels import assign_levels
from models.score import reasons_for, score_period
from models.train import train_escalation
from tests.utils.scored_city import FEATURES, synthetic_panel


def test_levels_at_and_between_cut_offs() -> None:
    levels = assign_levels(np.array([0.0, 0.0999, 0.1, 0.2999, 0.3, 1.0]), high=0.3, medium=0.1)
    assert list(levels) == ["low", "low", "medium", "medium", "high", "high"]
    with pytest.raises(ValueError, match="medium"):
        assign_levels(np.array([0.5]), high=0.1, medium=0.3)


@given(st.lists(st.floats(0, 1), min_size=1, max_size=50), st.floats(0.01, 0.49), st.floats(0.5, 0.99))
def test_levels_are_monotone_in_probability(probabilities, medium, high) -> None:
    order = {"low": 0, "medium": 1, "high": 2}
    p = np.sort(np.array(probabilities))
    ranks = [order[level] for level in assign_levels(p, high=high, medium=medium)]
    assert ranks == sorted(ranks)


def test_model_learns_the_signal_and_beats_the_long_run_baseline() -> None:
    panel = synthetic_panel([f"A{i}" for i in range(40)], periods=60)
    result = train_escalation(panel, feature_names=FEATURES)
    assert result.metrics["model_roc_auc"] > 0.75
    assert result.metrics["model_average_precision"] > result.metrics["baseline_average_precision"]
    assert result.manifest["training_window"][1] < str(panel["period_start"].max().date())


def test_scoring_covers_every_area_with_reasons() -> None:
    panel = synthetic_panel([f"A{i}" for i in range(20)])
    model = train_escalation(panel, feature_names=FEATURES).model
    period = pd.Timestamp(panel["period_start"].max())
    scored = score_period(panel, model=model, period=period, high=0.5, medium=0.2, describe={})
    assert len(scored) == 20 and scored["probability"].between(0, 1).all()
    assert all(len(reasons) <= 3 for reasons in scored["reasons"])
    with pytest.raises(ValueError, match="lacks features"):
        model.predict_proba(panel.drop(columns=["noise"]))


def test_reasons_name_the_feature_an_area_stands_out_on() -> None:
    frame = pd.DataFrame({"a": [0.0, 0, 0, 0, 10], "b": [1.0, 2, 3, 4, 5]})
    reasons = reasons_for(frame, feature_names=["a", "b"], describe={"a": "alpha"})
    assert reasons[4][0]["feature"] == "a" and reasons[4][0]["description"] == "alpha"
    assert reasons[0] == [] or all(r["standing"] > 0 for r in reasons[0])


def test_training_survives_a_feature_with_no_value_yet() -> None:
    """A young panel has windows with no value at all; the booster must still fit."""
    panel = synthetic_panel([f"A{i}" for i in range(30)], periods=50).assign(year_window=np.nan)
    result = train_escalation(panel, feature_names=FEATURES + ["year_window"])
    assert 0 <= result.model.predict_proba(result.model.prepare(panel).head(5)).min()
