"""The model layer end to end: reasons add up, small counts stay hidden, gates refuse, no fold sees the future."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin

from models import registry
from models.backtest import GateResult, promotion_gates
from models.escalation import make_estimator
from models.evaluate import BacktestPlan, backtest, recorded_gates
from models.explain import display, probability_contributions, raw_contributions, reason_text
from models.jobs import score_and_store, train_and_register
from models.targets import HISTORY, CountTarget, add_history, count_targets, trim_unrecorded_tail
from tests.utils.scored_city import FEATURES, synthetic_panel


@pytest.fixture(scope="module")
def panel() -> pd.DataFrame:
    return synthetic_panel([f"A{i:02d}" for i in range(30)], periods=50)


def test_contributions_add_up_to_the_raw_score_and_the_probability(panel) -> None:
    rows = panel[panel["label"].notna()]
    model = make_estimator(seed=0, positives=int(rows["label"].sum())).fit(rows[FEATURES].to_numpy(float), rows["label"].to_numpy(int))
    X = panel[FEATURES].to_numpy(float)
    X[::7, 2] = np.nan  # missing values follow the trees' missing branch
    raw, base_raw = raw_contributions(model.booster_, X)
    np.testing.assert_allclose(base_raw + raw.sum(axis=1), model.booster_.decision_function(X), atol=1e-8)
    parts, p, base = probability_contributions(model, X)
    np.testing.assert_allclose(base + parts.sum(axis=1), p, atol=1e-9)
    np.testing.assert_allclose(p, model.predict_proba(X)[:, 1])
    assert np.abs(parts[:, 0]).mean() > np.abs(parts[:, 2]).mean()  # the signal explains more than the noise


def test_reasons_hide_counts_below_k() -> None:
    assert display(3.0, is_count=True, suppression_k=5) == "<5"
    assert display(12.0, is_count=True, suppression_k=5) == "12"
    text = reason_text(feature="pet_total_n_4w", value=2.0, typical=1.0, own_rate=0.5, points=0.03,
                       describe={"pet_total_n_4w": "Petitions in the last 4 weeks"}, is_count=True, suppression_k=5)
    assert "<5" in text and "2" not in text.split(":")[1].split(";")[0].replace("<5", "")
    assert "raises the probability by 3.0 points" in text


def test_gates_refuse_a_model_that_does_not_beat_the_best_baseline() -> None:
    rows = []
    for scorer, ap, predicted in (("model", 0.10, 0.05), ("long_run", 0.20, 0.05), ("last", 0.05, 0.05)):
        rows.append({"fold": 0, "horizon": 1, "scorer": scorer, "average_precision": ap, "mean_predicted": predicted,
                     "mean_observed": 0.05, "rows": 100.0})
    verdict = promotion_gates(pd.DataFrame(rows))
    assert not verdict.passed and "long_run" in verdict.reasons[0]
    calibrated_badly = pd.DataFrame(rows).assign(average_precision=[0.3, 0.2, 0.05], mean_predicted=[0.08, 0.05, 0.05])
    assert "outside 0.9-1.1" in promotion_gates(calibrated_badly).reasons[0]
    assert recorded_gates({}) == (False, ["no backtest is recorded for this version (train it with `concord train`)"])


def test_a_version_refused_by_the_gates_is_registered_but_not_served(engine, tmp_path, monkeypatch) -> None:
    panel = synthetic_panel([f"A{i}" for i in range(12)])
    first = train_and_register(engine, panel=panel, feature_names=FEATURES, registry_dir=tmp_path, catalogue_hash="c")
    assert first.serving and first.gates_passed and first.manifest["backtest"]["gates"]["passed"]
    refusal = GateResult(passed=False, reasons=("horizon 1: average precision 0.1 does not beat long_run (0.2)",),
                         table=pd.DataFrame())
    monkeypatch.setattr("models.jobs.gates", lambda result: refusal)
    second = train_and_register(engine, panel=panel, feature_names=FEATURES, registry_dir=tmp_path, catalogue_hash="c")
    assert not second.serving and second.refused == refusal.reasons
    assert registry.serving_version(engine).version == first.version
    assert recorded_gates(registry.get_version(engine, second.version).manifest)[0] is False


class SpyClassifier(ClassifierMixin, BaseEstimator):
    """Remembers the latest period it was trained on (column 0 is the period number)."""

    seen: list[float] = []

    def fit(self, X, y):  # noqa: N803
        SpyClassifier.seen.append(float(np.max(X[:, 0])))
        self.classes_ = np.array([0, 1])
        self.rate_ = float(np.mean(y))
        return self

    def predict_proba(self, X):  # noqa: N803
        return np.column_stack([np.full(len(X), 1 - self.rate_), np.full(len(X), self.rate_)])


def test_no_fold_trains_on_outcomes_unknown_at_its_origin(panel, monkeypatch) -> None:
    frame = panel.assign(period_number=(panel["period_start"] - panel["period_start"].min()).dt.days // 7)
    SpyClassifier.seen = []
    monkeypatch.setattr("models.evaluate.make_estimator", lambda **_: SpyClassifier())
    result = backtest(frame, feature_names=["period_number", *FEATURES], plan=BacktestPlan(folds=3, stride=4),
                      history=True, counts=False)
    assert len(SpyClassifier.seen) == 3
    for fold, latest in zip(result.folds, SpyClassifier.seen, strict=True):
        assert latest + 1 <= fold.position  # label of period s known at s + 1 (offset 0, horizon 1)


def test_history_features_never_read_later_labels(panel) -> None:
    cut = panel["period_start"].sort_values().unique()[30]
    changed = panel.assign(label=panel["label"].where(panel["period_start"] < cut, 1.0 - panel["label"]))
    before, after = add_history(panel, lag=1), add_history(changed, lag=1)
    known = panel["period_start"] <= cut  # period cut reads labels up to cut - 1
    pd.testing.assert_frame_equal(before.loc[known, list(HISTORY)], after.loc[known, list(HISTORY)])
    assert not before.loc[~known, list(HISTORY)].equals(after.loc[~known, list(HISTORY)])


def test_count_targets_read_the_next_period_and_the_silent_tail_is_unlabelled() -> None:
    starts = pd.date_range("2024-01-01", periods=6, freq="7D")
    frame = pd.DataFrame({"area_id": ["A"] * 6, "period_start": starts, "pet_total_n_1w": [0, 2, 3, 1, 0, 0.0],
                          "med_total_n_1w": [0, 1, 0, 0, 0, 0.0], "label": [0, 1, 0, 0, 0, np.nan]})
    target = CountTarget(name="petitions", column="pet_total_n_1w", window=1, description="")
    assert count_targets(frame, [target])["petitions"].tolist()[:5] == [2, 3, 1, 0, 0]
    assert np.isnan(count_targets(frame, [target])["petitions"].iloc[5])
    trimmed = trim_unrecorded_tail(frame)["label"]
    assert trimmed.iloc[:3].tolist() == [0, 1, 0] and trimmed.iloc[3:].isna().all()


def test_scores_carry_reasons_that_add_up_expected_counts_and_movers(engine, tmp_path) -> None:
    panel = synthetic_panel([f"A{i}" for i in range(12)])
    frame = panel.assign(pet_total_n_1w=panel["recent"].astype(float), pet_total_n_13w=panel["recent"] * 13.0,
                         pet_labour_wages_n_13w=panel["recent"] * 4.0)
    names = [*FEATURES, "pet_total_n_1w", "pet_total_n_13w", "pet_labour_wages_n_13w"]
    model = train_and_register(engine, panel=frame, feature_names=names, registry_dir=tmp_path, catalogue_hash="c")
    assert model.serving and model.manifest["count_targets"][0]["name"] == "petitions"
    summary = score_and_store(engine, panel=frame, registry_dir=tmp_path, high=0.5, medium=0.2, describe={}, suppression_k=5)
    assert summary.movers and summary.previous_period < summary.period_start
    artifact, _ = registry.load_artifact(engine, registry_dir=tmp_path, version=model.version)
    from models.score import score_period
    scored = score_period(frame, model=artifact, period=summary.period_start, high=0.5, medium=0.2, describe={})
    expected = scored["expected"].iloc[0]
    assert {"petitions", "petitions:labour_wages"} <= set(expected)
    assert expected["petitions"]["lower"] <= expected["petitions"]["expected"] <= expected["petitions"]["upper"]
    for reasons in scored["reasons"]:  # the largest positive contributions, largest first (sums: test above)
        shares = [r["contribution"] for r in reasons]
        assert shares == sorted(shares, reverse=True) and all(c > 0 for c in shares)
        assert all("points" in r["text"] and isinstance(r["standing"], float) for r in reasons)
