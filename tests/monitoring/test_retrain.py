"""The champion/challenger gate: a better challenger is promoted, one trained on corrupted labels is not."""

from __future__ import annotations

import numpy as np
import pandas as pd
import sqlalchemy as sa

from features.storage.tables import drift_reports
from models import registry
from models.monitoring import history
from models.monitoring.retrain import FAILED, SUCCEEDED, run_retrain
from tests.monitoring.conftest import shuffled


def shuffled_labels(prepared: pd.DataFrame) -> np.ndarray:
    return shuffled(prepared["label"].to_numpy(float))


def test_better_challenger_would_be_promoted_but_dry_run_keeps_the_champion(state) -> None:
    """The champion learnt from shuffled labels; the challenger from the real ones. (The real
    promotion is the recovery run of tests/monitoring/test_crash.py.)"""
    s = state(weak=True)
    dry = run_retrain(s.engine, config=s.config(), triggered_by="test", dry_run=True)
    assert dry.exit_code == SUCCEEDED, dry.message
    assert dry.summary["decision"] == "would promote" and not dry.summary["promoted"]
    assert dry.summary["challenger_ap"] >= dry.summary["champion_ap"] + 0.005
    assert registry.serving_version(s.engine).version == s.champion
    assert list((s.inbox / "processed").iterdir()) and not list(s.inbox.glob("*.csv"))  # the drop was loaded
    run = history.get_run(s.engine, dry.run_id)
    assert (run.status, run.step, run.exit_code) == ("succeeded", "done", SUCCEEDED)
    html = dry.report.read_text(encoding="utf-8")
    assert "would promote" in html and "champion" in html and "Drift" in html and "data:image/png;base64" in html
    with s.engine.connect() as connection:
        linked = connection.execute(sa.select(drift_reports.c.run_id).where(drift_reports.c.run_id == dry.run_id)).all()
    assert len(linked) == 1
    manifest = registry.get_version(s.engine, dry.summary["challenger"]).manifest
    assert manifest["retrain"]["run_id"] == dry.run_id and manifest["backtest"]["gates"]["passed"] is True


def test_challenger_trained_on_corrupted_labels_is_not_promoted(state) -> None:
    s = state()
    before = registry.get_version(s.engine, s.champion)
    outcome = run_retrain(s.engine, config=s.config(), triggered_by="test", training_labels=shuffled_labels)
    assert outcome.exit_code == SUCCEEDED, outcome.message
    assert outcome.summary["decision"] == "kept the champion" and not outcome.summary["promoted"]
    assert outcome.summary["challenger_ap"] < outcome.summary["champion_ap"]
    assert any("does not beat the champion" in reason for reason in outcome.summary["reasons"])
    serving = registry.serving_version(s.engine)
    assert serving.version == s.champion and serving.sha256 == before.sha256
    registry.load_artifact(s.engine, registry_dir=s.root / "registry", version=s.champion)  # checksum still holds
    refused = registry.get_version(s.engine, outcome.summary["challenger"])
    assert not refused.serving and refused.manifest["backtest"]["gates"]["passed"] is False


def test_rejected_drop_fails_the_run_and_keeps_the_serving_model(state) -> None:
    s = state(weak=True)
    (s.inbox / "petitions-bad.csv").write_text(
        "petition_id,area_id,received_on,category\nBAD1,NO_SUCH_AREA,2024-11-04,labour_wages\n", encoding="utf-8")
    outcome = run_retrain(s.engine, config=s.config(), triggered_by="test")
    assert outcome.exit_code == FAILED and "NO_SUCH_AREA" in outcome.message and "unchanged" in outcome.message
    assert (s.inbox / "rejected" / "petitions-bad.csv").is_file()
    assert (s.inbox / "rejected" / "petitions-bad.csv.errors.txt").read_text(encoding="utf-8").count("NO_SUCH_AREA")
    assert registry.serving_version(s.engine).version == s.champion
    run = history.get_run(s.engine, outcome.run_id)
    assert (run.status, run.step, run.exit_code) == ("failed", "ingest", FAILED) and "BatchRejected" in run.error
