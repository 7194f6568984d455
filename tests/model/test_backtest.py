"""Rolling-origin backtest: folds never see the future, every scorer meets the same rows, gates refuse."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest
from threadpoolctl import threadpool_limits

from models.backtest import (
    BASELINES,
    MODEL,
    ORACLE,
    panels_by_horizon,
    plan_folds,
    promotion_gates,
    run_backtest,
    summary_table,
)
from models.calibration import CalibratedEscalationClassifier
from models.counts import CountForecaster

FAST = CalibratedEscalationClassifier(max_iter=60, learning_rate=0.1, min_samples_leaf=20, method="sigmoid")


@dataclass(frozen=True)
class City:
    panel: pd.DataFrame  # features + per-period ``events`` (not a feature) + ``petitions_next``
    adjacency: pd.DataFrame
    truth: pd.DataFrame


def synthetic_city(*, rows: int = 6, cols: int = 10, weeks: int = 80, seed: int = 0) -> City:
    """A grid city whose escalations follow a latent, spilling, self-exciting tension.

    Petition counts are a noisy view of the tension, so a model with features
    can beat label-only baselines; ``truth`` is the exact escalation probability.
    """
    rng = np.random.default_rng(seed)
    n = rows * cols
    ids = np.array([f"A{i:03d}" for i in range(n)])
    r, c = np.divmod(np.arange(n), cols)
    pairs = [(i, j) for i in range(n) for j in range(n) if abs(r[i] - r[j]) + abs(c[i] - c[j]) == 1]
    adjacency = pd.DataFrame({"area_id": ids[[i for i, _ in pairs]], "neighbor_id": ids[[j for _, j in pairs]]})
    neighbours = np.zeros((n, n))
    neighbours[[i for i, _ in pairs], [j for _, j in pairs]] = 1
    neighbours /= neighbours.sum(axis=1, keepdims=True)
    base, x = rng.normal(0, 0.6, n), np.zeros(n)
    p, events, petitions = np.zeros((n, weeks)), np.zeros((n, weeks)), np.zeros((n, weeks))
    for t in range(weeks):
        x = 0.6 * x + 0.25 * neighbours @ x + rng.normal(0, 0.5, n)
        previous = events[:, t - 1] if t else 0
        p[:, t] = 1 / (1 + np.exp(-(-3.2 + 1.2 * (base + x) + 0.5 * previous)))
        events[:, t] = rng.random(n) < p[:, t]
        petitions[:, t] = rng.poisson(np.exp(1.5 + base + x))
    lag = lambda m, k: np.concatenate([np.full((n, k), np.nan), m[:, :-k]], axis=1)  # noqa: E731
    summed = lambda m, w: sum(lag(m, k) for k in range(1, w + 1))  # noqa: E731
    starts = pd.date_range("2023-01-02", periods=weeks, freq="7D")
    features = {
        "petitions_1w": lag(petitions, 1), "petitions_4w": summed(petitions, 4), "petitions_12w": summed(petitions, 12),
        "escalations_4w": summed(events, 4), "neighbour_petitions_1w": (neighbours @ np.nan_to_num(lag(petitions, 1))),
        "noise": rng.normal(size=(n, weeks)),
    }
    observed = events.copy()
    observed[:, -1] = np.nan  # the current week has not ended
    panel = pd.DataFrame({
        "area_id": pd.Categorical(np.repeat(ids, weeks)), "period_start": np.tile(starts, n),
        **{name: m.ravel().astype(np.float64) for name, m in features.items()},
        "events": observed.ravel(), "petitions_next": petitions.ravel(),
    })
    truth = pd.DataFrame({"area_id": np.repeat(ids, weeks), "period_start": np.tile(starts, n), "p_escalation": p.ravel()})
    return City(panel=panel, adjacency=adjacency, truth=truth)


FEATURES = ["petitions_1w", "petitions_4w", "petitions_12w", "escalations_4w", "neighbour_petitions_1w", "noise"]


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """OpenMP boosters on a shared 2-core box spin against each other: one thread is 7x faster here."""
    with threadpool_limits(1):
        yield


@pytest.fixture(scope="module")
def city() -> City:
    return synthetic_city()


@pytest.fixture(scope="module")
def result(city: City):
    panels = panels_by_horizon(city.panel, events=city.panel["events"], horizons=(1, 2, 3, 4), label_offset=0)
    return run_backtest(
        panels, folds=3, stride=4, label_offset=0, feature_names=FEATURES, estimator=FAST,
        adjacency=city.adjacency, truth=city.truth, count_targets=("petitions_next",),
        count_estimator=CountForecaster(max_iter=40, learning_rate=0.1, min_samples_leaf=20), importance_repeats=2,
    )


def test_labels_per_horizon_cover_the_right_window(city: City) -> None:
    one = city.panel[city.panel["area_id"] == "A000"].reset_index(drop=True)
    for offset in (0, 1):
        panels = panels_by_horizon(one, events=one["events"], horizons=(1, 3), label_offset=offset)
        e = one["events"].to_numpy()
        assert panels[1]["label"].iloc[10] == e[10 + offset]
        assert panels[3]["label"].iloc[10] == float(e[10 + offset : 13 + offset].max())
        assert panels[3]["label"].iloc[-(3 + offset):].isna().all() and panels[3]["label"].iloc[-(4 + offset)] >= 0


@pytest.mark.parametrize("offset", [0, 1])
def test_folds_never_train_on_outcomes_after_the_origin(city: City, offset: int) -> None:
    seen: list[tuple[pd.Timestamp, np.ndarray]] = []

    class Spy(CalibratedEscalationClassifier):
        def fit(self, X, y):  # noqa: N803
            seen.append(X[:, 0].copy())
            return super().fit(X, y)

    # Feature 0 encodes each row's period number, so the spy can read which periods were trained on.
    panel = city.panel.assign(period_number=(city.panel["period_start"] - city.panel["period_start"].min()).dt.days // 7)
    panels = panels_by_horizon(panel, events=panel["events"], horizons=(1, 4), label_offset=offset)
    out = run_backtest(panels, folds=2, stride=3, label_offset=offset, horizons=(1, 4), feature_names=["period_number", *FEATURES],
                       estimator=Spy(max_iter=10, method="sigmoid"))
    first = panel["period_start"].min()
    for (fold, h), trained in zip([(f, h) for h in (1, 4) for f in out.folds], seen, strict=True):
        origin = (fold.origin - first).days // 7
        assert trained.max() + offset + h <= origin  # the last outcome period ended before the origin
        assert trained.max() + offset + h == origin  # ... and nothing known was thrown away
        test = out.predictions[(out.predictions["fold"] == fold.number) & (out.predictions["horizon"] == h)]
        assert test["period_start"].min() == fold.origin and len(test["period_start"].unique()) == 3


def test_every_scorer_is_scored_on_the_same_rows(result) -> None:
    m = result.metrics
    assert set(m["scorer"]) == {MODEL, ORACLE, *BASELINES}
    assert set(m["horizon"]) == {1, 2, 3, 4} and set(m["fold"]) == {0, 1, 2}
    assert m.groupby(["fold", "horizon"])["rows"].nunique().eq(1).all()
    assert not result.predictions[[MODEL, ORACLE, *BASELINES]].isna().any().any()
    assert list(result.importance.columns) == ["feature", "importance", "std"]


def test_model_beats_baselines_and_the_oracle_beats_everyone(result) -> None:
    table = summary_table(result.metrics).set_index(["horizon", "scorer"])
    ap = table.loc[1, "average_precision"]
    assert ap[MODEL] > ap[list(BASELINES)].max()
    assert ap[ORACLE] >= ap[MODEL] * 0.95
    assert 0.4 < table.loc[(1, MODEL), "average_precision_to_oracle"] <= 1.2


def test_count_metrics_cover_model_and_baselines(result) -> None:
    c = result.count_metrics
    assert set(c["scorer"]) == {MODEL, "last", "moving_average", "long_run"}
    model = c[c["scorer"] == MODEL]
    assert model["coverage"].between(0.6, 1.0).all()
    by = c[c["horizon"] == 1].groupby("scorer")["poisson_deviance"].mean()
    assert by[MODEL] < by["last"]


def _metrics(*, model_ap: float, baseline_ap: float, predicted: float) -> pd.DataFrame:
    rows = [{"horizon": 1, "fold": f, "scorer": MODEL, "average_precision": model_ap, "rows": 100.0,
             "mean_predicted": predicted, "mean_observed": 0.1} for f in range(2)]
    rows += [{"horizon": 1, "fold": f, "scorer": b, "average_precision": baseline_ap - 0.01 * i, "rows": 100.0,
              "mean_predicted": 0.1, "mean_observed": 0.1} for f in range(2) for i, b in enumerate(BASELINES)]
    return pd.DataFrame(rows)


def test_gates_pass_and_refuse() -> None:
    assert promotion_gates(_metrics(model_ap=0.4, baseline_ap=0.3, predicted=0.1)).passed
    worse = promotion_gates(_metrics(model_ap=0.29, baseline_ap=0.3, predicted=0.1))
    assert not worse.passed and "does not beat last" in worse.reasons[0]
    under = promotion_gates(_metrics(model_ap=0.4, baseline_ap=0.3, predicted=0.085))
    assert not under.passed and "0.85" in under.reasons[0]
    assert promotion_gates(_metrics(model_ap=0.4, baseline_ap=0.3, predicted=0.109)).passed
    assert not promotion_gates(_metrics(model_ap=0.4, baseline_ap=0.3, predicted=0.112)).passed


def test_gates_on_the_backtest_pass_for_the_calibrated_model(result) -> None:
    gate = promotion_gates(result.metrics[result.metrics["horizon"] == 1])
    assert gate.table.loc[0, "predicted_to_observed"] == pytest.approx(1.0, abs=0.25)


def test_fold_plan_spreads_origins_over_the_end() -> None:
    periods = pd.Series(pd.date_range("2024-01-01", periods=30, freq="7D"))
    folds = plan_folds(periods, folds=3, stride=4, last=27, start=None, earliest=5)
    assert [f.position for f in folds] == [16, 20, 24] and len(folds[-1].test_periods) == 4
    from_start = plan_folds(periods, folds=2, stride=None, last=27, start=periods[20], earliest=5)
    assert [f.position for f in from_start] == [20, 24]
    with pytest.raises(ValueError, match="do not fit"):
        plan_folds(periods, folds=10, stride=4, last=27, start=None, earliest=5)
