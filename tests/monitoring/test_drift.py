"""Drift is reported for the features that moved, and for nothing a control city does not also show."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from features.pipeline import PanelSpec, build_features, load_panel
from models.monitoring.drift import DriftConfig
from models.monitoring.jobs import COULD_NOT_RUN, DRIFT_FOUND, NO_DRIFT, drift_job
from models.monitoring.scoring import effective_threshold
from models.monitoring.sources import load_inbox
from models.monitoring.stattest import pooled_wasserstein
from models.monitoring.windows import DriftCannotRun, choose_windows
from tests.monitoring.city import NEW_CHANNEL, RENAMED, Drift
from tests.monitoring.conftest import HASH_KEY

INJECTED = ("pop_migrants_share", "pol_land_requisition_n_52w", "pol_pending_n")


def _check(state) -> object:
    load_inbox(state.engine, state.inbox, hash_key=HASH_KEY, loaded_by="test")
    build_features(state.engine, spec=PanelSpec(), data_dir=state.root)
    return drift_job(state.engine, panel_loader=lambda: load_panel(state.engine, data_dir=state.root), config=DriftConfig(),
                     data_dir=state.root, registry_dir=state.root / "registry", triggered_by="test")


def test_injected_drift_is_reported_for_the_right_features(state) -> None:
    drifted = _check(state(drift=Drift.everything(), weak=True))
    control = _check(state(drift=Drift(), weak=True))
    found, calm = drifted.summary, control.summary
    scores = {row["column"]: row["score"] for row in found["scores"]}
    calm_scores = {row["column"]: row["score"] for row in calm["scores"]}
    assert drifted.exit_code == DRIFT_FOUND
    # a new migrant inflow: flagged here, not in the control city
    assert "pop_migrants_share" in found["drifted_features"] and "pop_migrants_share" not in calm["drifted_features"]
    # a policy shock: the city has policies of its own, so the shock must stand far above them
    for feature in ("pol_land_requisition_n_52w", "pol_no_hearing_n_52w"):
        assert feature in found["drifted_features"], (feature, found["drifted_features"][:20])
        assert scores[feature] > 2 * calm_scores[feature], (feature, scores[feature], calm_scores[feature])
    # a new petition channel and a renamed category reach the record checks
    assert found["new_values"]["petitions.channel"] == [NEW_CHANNEL]
    assert RENAMED[1] in found["new_values"]["petitions.category"]
    assert RENAMED[1] in found["new_values"]["mediation.dispute_type"]
    assert "petitions.channel" in found["drifted_record_columns"]
    assert calm["new_values"] == {} and "petitions.channel" not in calm["drifted_record_columns"]
    assert "new values in petitions.channel: online" in found["reasons"]
    # the renamed family's petitions now count as "other"
    assert scores["pet_other_n_13w"] > calm_scores["pet_other_n_13w"]
    assert found["reports"]["features"].endswith(".html") and found["reports"]["records"].endswith(".records.html")


def test_drift_files_and_trail(state) -> None:
    s = state(drift=Drift.everything(), weak=True)
    outcome = _check(s)
    folder = s.root / "reports" / "monitoring"
    html = (folder / outcome.summary["reports"]["features"]).read_text(encoding="utf-8")
    assert "pop_migrants_share" in html
    assert (folder / outcome.summary["json"]).is_file()
    from models.monitoring import history

    run = history.get_run(s.engine, outcome.run_id)
    assert (run.job, run.status, run.exit_code, run.step) == ("drift", "succeeded", DRIFT_FOUND, "done")
    latest = history.latest_drift(s.engine)
    assert latest["run_id"] == outcome.run_id and latest["drift_detected"] is True


def stationary_panel(*, areas: int = 60, periods: int = 70, seed: int = 0) -> pd.DataFrame:
    """Catalogue-named features drawn from one distribution in every period: nothing drifts."""
    rng = np.random.default_rng(seed)
    starts = pd.date_range("2024-01-01", periods=periods, freq="7D")
    ids = [f"A{i:03d}" for i in range(areas)]
    frame = pd.DataFrame({"area_id": pd.Categorical(np.tile(ids, periods)), "period_start": np.repeat(starts, areas)})
    n = len(frame)
    frame["pet_total_n_4w"] = rng.poisson(2.0, n).astype(float)
    frame["med_total_n_4w"] = rng.poisson(3.0, n).astype(float)
    frame["pop_migrants_share"] = rng.beta(3, 7, n)
    frame["pop_elderly_share"] = rng.beta(2, 12, n)
    frame["label"] = (rng.random(n) < 0.05).astype(float)
    frame.loc[frame["period_start"] == starts[-1], "label"] = np.nan
    return frame


def test_exit_codes_no_drift_then_drift_then_cannot_run(sqlite_engine, tmp_path) -> None:
    panel = stationary_panel()
    run = lambda p, **kw: drift_job(sqlite_engine, panel_loader=lambda: p, config=DriftConfig(), data_dir=tmp_path,
                                    registry_dir=tmp_path / "registry", triggered_by="test", **kw)
    calm = run(panel)
    assert calm.exit_code == NO_DRIFT, calm.message
    assert calm.summary["drifted_features"] == [] and calm.summary["windows"]["seasonal_reference"] is True
    shifted = panel.copy()
    late = shifted["period_start"] >= shifted["period_start"].max() - pd.Timedelta(weeks=3)
    shifted.loc[late, "pop_migrants_share"] += 0.25
    moved = run(shifted)
    assert moved.exit_code == DRIFT_FOUND
    assert moved.summary["drifted_features"] == ["pop_migrants_share"]
    assert run(panel.iloc[:0]).exit_code == COULD_NOT_RUN
    failed = run(panel, period=pd.Timestamp("1999-01-04"))
    assert failed.exit_code == COULD_NOT_RUN and "1999-01-04" in failed.message


def test_windows_use_last_years_season_and_never_overlap() -> None:
    starts = pd.Series(pd.date_range("2023-01-02", periods=100, freq="7D"))
    w = choose_windows(starts, reference=13, current=4, training_end=starts.iloc[90], period=None)
    assert w.seasonal and w.current == (starts.iloc[96], starts.iloc[99])
    assert (w.current[0] - w.reference[0]).days // 7 in range(52, 60) and w.reference_periods == 13
    short = choose_windows(starts.iloc[:40], reference=13, current=4, training_end=starts.iloc[30], period=None)
    assert not short.seasonal and short.reference == (starts.iloc[18], starts.iloc[30])
    with pytest.raises(DriftCannotRun, match="training end"):
        choose_windows(starts.iloc[:40], reference=13, current=4, training_end=starts.iloc[0], period=None)


def test_config_errors_name_the_field() -> None:
    with pytest.raises(ValueError, match="drift_share=1.5"):
        DriftConfig(drift_share=1.5)


def test_pooled_distance_is_calm_on_sparse_counts() -> None:
    zeros = pd.Series(np.zeros(600))
    few = pd.Series((np.arange(100) < 2).astype(float))
    score, _ = pooled_wasserstein(zeros, few, None, 0.1)
    reference_normed = 0.02 / 0.001  # Evidently's "wasserstein": W1 / max(reference sd, 0.001)
    assert score < 0.5 < reference_normed  # two petitions in a hundred rows are not a 20-sd shift
    assert pooled_wasserstein(zeros, zeros, None, 0.1) == (0.0, False)
    many = pd.Series(np.full(100, 3.0))
    assert pooled_wasserstein(zeros, many, None, 0.1)[1]
    assert effective_threshold(0.1, reference_rows=200_000, current_rows=20_000) == 0.1
    assert effective_threshold(0.1, reference_rows=1300, current_rows=200) > 0.18
