"""Metrics against hand-computed examples; the calibrated classifier and the count model behave."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.utils.estimator_checks import parametrize_with_checks
from threadpoolctl import threadpool_limits

from models import metrics as m
from models.calibration import CalibratedEscalationClassifier
from models.counts import CountForecaster, forecast_counts, poisson_interval

Y = np.array([1.0, 0.0, 1.0, 0.0])
P = np.array([0.9, 0.8, 0.7, 0.1])


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    with threadpool_limits(1):
        yield


def test_ranking_and_probability_scores_by_hand() -> None:
    assert m.average_precision(y=Y, p=P) == pytest.approx(0.5 * 1 + 0.5 * 2 / 3)
    assert m.roc_auc(y=Y, p=P) == pytest.approx(3 / 4)
    assert m.brier(y=Y, p=P) == pytest.approx((0.01 + 0.64 + 0.09 + 0.01) / 4)
    assert m.log_score(y=Y, p=P) == pytest.approx(-(math.log(0.9) + math.log(0.2) + math.log(0.7) + math.log(0.9)) / 4)
    assert math.isnan(m.average_precision(y=np.zeros(3), p=np.ones(3) / 2))
    assert m.log_score(y=np.array([1.0]), p=np.array([0.0])) == pytest.approx(-math.log(1e-6))


def test_ece_uses_equal_mass_bins() -> None:
    # sorted p: [.1 .7 | .8 .9] -> bins (p .4, y .5) and (p .85, y .5)
    assert m.expected_calibration_error(y=Y, p=P, bins=2) == pytest.approx(0.5 * 0.1 + 0.5 * 0.35)
    table = m.reliability_table(y=Y, p=P, bins=2)
    assert table["rows"].tolist() == [2, 2] and table["observed"].tolist() == [0.5, 0.5]


def test_ece_is_small_for_a_calibrated_forecaster_and_large_for_an_overconfident_one() -> None:
    rng = np.random.default_rng(0)
    p = rng.uniform(0, 0.3, 200_000)
    y = (rng.random(p.size) < p).astype(float)
    assert m.expected_calibration_error(y=y, p=p) < 0.005
    assert m.expected_calibration_error(y=y, p=np.clip(1.5 * p, 0, 1)) > 0.05


def test_top_k_per_period_by_hand() -> None:
    period = np.repeat([0, 1], 10)
    score = np.tile(np.arange(10, 0, -1, dtype=float), 2)
    y = np.zeros(20)
    y[[0, 5, 13]] = 1  # period 0: top area escalates and one more; period 1: one escalation, not on top
    got = m.top_k_metrics(y=y, score=score, period=period, k=0.10)
    assert got == pytest.approx({"recall": 1 / 3, "precision": 1 / 2, "pai": (1 / 3) / (2 / 20), "pei": 1 / 2})
    assert m.top_k_metrics(y=y, score=score, period=period, k=0.01) == got  # ceil: one area per period


def test_ties_at_the_boundary_share_the_slots() -> None:
    w = m.flag_weights(period=np.array([1, 1, 1, 1, 2, 2, 2, 2]), score=np.array([.9, .5, .5, .1, .3, .3, .3, .3]), k=0.5)
    assert w.tolist() == [1.0, 0.5, 0.5, 0.0, 0.5, 0.5, 0.5, 0.5]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 3), st.floats(0, 1), st.booleans()), min_size=4, max_size=60), st.sampled_from([0.01, 0.05, 0.1, 0.5]))
def test_top_k_bounds(rows, k) -> None:
    period, score, y = (np.array(c, dtype=float) for c in zip(*rows, strict=True))
    got = m.top_k_metrics(y=y, score=score, period=period, k=k)
    if y.sum():
        assert 0 <= got["recall"] <= 1 + 1e-9 and 0 <= got["pei"] <= 1 + 1e-9
    assert np.sum(m.flag_weights(period=period, score=score, k=k)) == pytest.approx(
        sum(math.ceil(k * np.sum(period == q) - 1e-9) for q in np.unique(period)))


def test_classification_metrics_drop_unobserved_labels() -> None:
    out = m.classification_metrics(y=np.append(Y, np.nan), p=np.append(P, 0.5), period=np.zeros(5))
    assert out["rows"] == 4 and out["average_precision"] == pytest.approx(5 / 6)
    assert {"recall_at_1", "precision_at_5", "pai_at_10", "pei_at_5", "ece"} <= set(out)


def test_count_metrics_by_hand() -> None:
    assert m.poisson_deviance(y=np.array([0.0, 2.0]), mu=np.array([1.0, 1.0])) == pytest.approx(2 * math.log(2))
    assert m.poisson_crps(y=np.array([0.0]), mu=np.array([1.0]))[0] == pytest.approx(0.47622, abs=1e-4)
    y, mu = np.array([0, 1, 3, 7, 0, 12, 40.0]), np.array([0.2, 1.5, 2.0, 4.0, 5.0, 30.0, 35.0])
    assert m.poisson_crps(y=y, mu=mu) == pytest.approx(m.poisson_crps_by_sum(y=y, mu=mu), abs=1e-9)
    assert m.interval_coverage(y=np.array([1, 5, 10.0]), lower=np.array([0, 6, 10]), upper=np.array([2, 8, 12])) == pytest.approx(2 / 3)
    assert m.count_metrics(y=np.array([1.0, np.nan]), mu=np.ones(2), lower=np.zeros(2), upper=np.ones(2))["rows"] == 1


@parametrize_with_checks([CalibratedEscalationClassifier(max_iter=10, min_samples_leaf=5)])
def test_calibrated_classifier_keeps_the_estimator_contract(estimator, check) -> None:
    check(estimator)


def _drifting_rows(n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4))
    X[rng.random(n) < 0.1, 3] = np.nan  # an absent feature family
    p = 1 / (1 + np.exp(-(-3.0 + 1.5 * X[:, 0] + 0.8 * X[:, 1] * X[:, 2])))
    return X, (rng.random(n) < p).astype(int), p


def test_calibrated_classifier_is_calibrated_out_of_sample() -> None:
    X, y, _ = _drifting_rows(30_000, 0)
    model = CalibratedEscalationClassifier(max_iter=80, learning_rate=0.1).fit(X, y)
    assert model.method_ == "isotonic" and model.calibration_rows_ == 6_000
    X_new, y_new, p_true = _drifting_rows(30_000, 1)
    p = model.predict_proba(X_new)[:, 1]
    assert m.expected_calibration_error(y=y_new, p=p) < 0.02
    assert p.mean() / y_new.mean() == pytest.approx(1.0, abs=0.1)
    assert m.roc_auc(y=y_new, p=p) > m.roc_auc(y=y_new, p=p_true) - 0.03


def test_few_positives_get_a_sigmoid_and_a_bad_method_raises() -> None:
    X, y, _ = _drifting_rows(2_000, 2)
    assert CalibratedEscalationClassifier(max_iter=10).fit(X, y).method_ == "sigmoid"
    with pytest.raises(ValueError, match="method"):
        CalibratedEscalationClassifier(method="beta").fit(X, y)


def test_count_forecaster_intervals_are_ordered_and_cover() -> None:
    rng = np.random.default_rng(3)
    X = rng.normal(size=(6_000, 3))
    mu_true = np.exp(1.0 + 0.7 * X[:, 0])
    y = rng.negative_binomial(3, 3 / (3 + mu_true)).astype(float)  # over-dispersed, mean mu_true
    for interval in ("quantile", "poisson"):
        model = CountForecaster(interval=interval, max_iter=60, learning_rate=0.1).fit(X[:4000], y[:4000])
        mu, lower, upper = model.predict_interval(X[4000:])
        assert np.all((lower <= mu) & (mu <= upper) & (lower >= 0))
        coverage = m.interval_coverage(y=y[4000:], lower=lower, upper=upper)
        assert coverage > (0.85 if interval == "quantile" else 0.6)
    lower, upper = poisson_interval(np.array([4.0]))
    assert (lower[0], upper[0]) == (1.0, 8.0)
    frame = pd.DataFrame(X[:5], columns=["a", "b", "c"]).assign(area_id="A", period_start=pd.Timestamp("2024-01-01"))
    assert list(forecast_counts(model, frame=frame, feature_names=["a", "b", "c"]).columns) == [
        "area_id", "period_start", "expected", "lower", "upper"]
