"""``concord retrain``: new records in, features, drift, a challenger, and promotion only if it is better.

Steps, each recorded in the run's ``job_runs`` row before it starts:
ingest → features → drift → compare → train → register → report → promote.
Nothing before "promote" touches the serving version: the challenger is
written under a new name (registry.register writes a temporary file and
renames it) and promotion is one transaction, so a crash at any step leaves
the serving model and its files as they were, and the next run — which
finds the dead run "running", marks it crashed and starts afresh — simply
does the work again (loading and feature builds are idempotent).

Exit codes (docs/monitoring.md): 0 the run finished (challenger promoted,
or kept out because it was not better — the summary says which); 1 a step
failed (rejected input, training failed; nothing was promoted); 2 it could
not start (configuration, database); 3 another retrain holds the lock.
A failure is recorded with its type and message (a rejected batch names
every offending row; ``TrainingFailed`` says what the panel lacks).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy.engine import Engine

from features.catalogue import catalogue_hash
from features.labels import LABEL_OFFSET
from features.pipeline import PanelSpec, build_features, feature_columns, load_panel
from models import registry
from models.monitoring import history
from models.monitoring.compare import (
    BASELINE,
    CHALLENGER,
    CHAMPION,
    Comparison,
    ComparisonPlan,
    TrainingLabels,
    compare,
)
from models.monitoring.drift import DriftConfig
from models.monitoring.jobs import reports_dir, run_drift_check
from models.monitoring.lock import JobLock, LockBusy
from models.monitoring.report import render, write_report
from models.monitoring.serving import load_champion
from models.monitoring.sources import SqlSource, load_inbox, load_sql
from models.train import panel_horizon, prepare, train_escalation

SUCCEEDED, FAILED, COULD_NOT_START, BUSY = 0, 1, 2, 3
STEPS = ("ingest", "features", "drift", "compare", "train", "register", "report", "promote")


@dataclass(frozen=True)
class RetrainConfig:
    """Everything a retraining run needs, as plain values (built from settings by the CLI)."""

    data_dir: Path
    registry_dir: Path
    spec: PanelSpec
    hash_key: bytes
    inbox_dir: Path | None = None
    sql_source: SqlSource | None = None
    drift: DriftConfig = field(default_factory=DriftConfig)
    comparison: ComparisonPlan = field(default_factory=ComparisonPlan)
    seed: int = 0
    counts: bool = True
    lock_wait_seconds: float = 0.0


@dataclass(frozen=True)
class RetrainOutcome(history.JobOutcome):
    """How ``concord retrain`` ended, and where its report is."""

    report: Path | None = None


def lock_path(data_dir: Path) -> Path:
    return Path(data_dir) / "locks" / "retrain.lock"


def run_retrain(
    engine: Engine, *, config: RetrainConfig, triggered_by: str, dry_run: bool = False,
    training_labels: TrainingLabels | None = None, on_step: Callable[[str], None] = lambda step: None,
    progress: Callable[[str], None] = lambda m: None,
) -> RetrainOutcome:
    """Run every step under the retraining lock; never raises for a failed step (see the exit codes).

    ``training_labels`` replaces the labels the challenger learns from (it is
    always judged on the panel's); ``on_step`` is called as each step starts.
    """
    lock = JobLock(lock_path(config.data_dir), wait_seconds=config.lock_wait_seconds)
    try:
        lock.acquire()
    except LockBusy as exc:
        return RetrainOutcome(BUSY, None, {"error": str(exc)}, f"not started: {exc}")
    try:
        crashed = history.mark_crashed(engine, job="retrain")
        run_id = history.start_run(engine, job="retrain", triggered_by=triggered_by)
        job = _Run(engine, config=config, run_id=run_id, triggered_by=triggered_by, on_step=on_step, progress=progress)
        if crashed:
            job.summary["previous_runs_crashed"] = crashed
        try:
            return job.run(dry_run=dry_run, training_labels=training_labels)
        except Exception as exc:  # noqa: BLE001 - any failure ends the run as "failed" with its reason; nothing was promoted
            return job.fail(exc)
    finally:
        lock.release()


class _Run:
    """One run's state: the steps fill ``summary`` as they go, for the trail and the report."""

    def __init__(self, engine: Engine, *, config: RetrainConfig, run_id: int, triggered_by: str,
                 on_step: Callable[[str], None], progress: Callable[[str], None]) -> None:
        self.engine, self.config, self.run_id = engine, config, run_id
        self.triggered_by, self.on_step, self.progress = triggered_by, on_step, progress
        self.summary: dict[str, Any] = {"dry_run": False, "promoted": False}
        self.started = time.perf_counter()
        self.comparison: Comparison | None = None
        self.drift: dict[str, Any] | None = None

    def step(self, name: str) -> None:
        history.set_step(self.engine, self.run_id, name)
        self.progress(f"step: {name}")
        self.on_step(name)

    def run(self, *, dry_run: bool, training_labels: TrainingLabels | None) -> RetrainOutcome:
        config, engine = self.config, self.engine
        self.summary["dry_run"] = dry_run
        self.step("ingest")
        self.summary["loaded"] = self.ingest()
        self.step("features")
        build = build_features(engine, spec=config.spec, data_dir=config.data_dir)
        self.summary["features"] = {"build_id": build.build_id, "rows": build.rows, "recomputed_periods": build.recomputed_periods,
                                    "full": build.full, "reason": build.reason, "last_period": build.last_period}
        panel = load_panel(engine, data_dir=config.data_dir, period=config.spec.period)
        self.step("drift")
        drift = run_drift_check(engine, panel_loader=lambda: panel, config=config.drift, data_dir=config.data_dir,
                                registry_dir=config.registry_dir, triggered_by=self.triggered_by, run_id=self.run_id,
                                period_days=7 if config.spec.period == "week" else 30, progress=self.progress)
        self.drift = drift.summary if drift.exit_code != 2 else None
        self.summary["drift"] = {"exit_code": drift.exit_code, "message": drift.message}
        self.step("compare")
        champion = load_champion(engine, registry_dir=config.registry_dir)
        names = feature_columns(panel)
        horizon = panel_horizon(panel)
        prepared, with_history = prepare(panel, feature_names=names, history=True, lag=LABEL_OFFSET + horizon)
        self.comparison = compare(prepared, names=with_history, champion=champion, plan=config.comparison,
                                  seed=config.seed, horizon=horizon, training_labels=training_labels, progress=self.progress)
        self.summary.update(self._comparison_facts())
        self.step("train")
        train_panel = panel if training_labels is None else panel.assign(label=_labels_for(panel, prepared, training_labels))
        result = train_escalation(train_panel, feature_names=names, seed=config.seed,
                                  catalogue_hash=catalogue_hash(config.spec.period), counts=config.counts, progress=self.progress)
        self.step("register")
        manifest = {**result.manifest, "retrain": {"run_id": self.run_id, **self._comparison_facts()},
                    "backtest": self._backtest_entry()}
        challenger = registry.register(engine, registry_dir=config.registry_dir, artifact=result.model, manifest=manifest)
        self.summary["challenger"] = challenger.version
        promote = self.comparison.promote
        self.summary["decision"] = (("would promote" if dry_run else "promoted") if promote
                                    else "kept the champion" if champion else "nothing promoted")
        self.summary["reasons"] = list(self.comparison.reasons)
        self.step("report")
        report = reports_dir(config.data_dir) / f"retrain-{self.run_id}.html"
        self.summary["report"] = report.name
        write_report(report, render(run_id=self.run_id, summary=self.summary, comparison=self.comparison, drift=self.drift))
        self.step("promote")
        if promote and not dry_run:
            registry.promote(engine, challenger.version)
            self.summary["promoted"] = True
        self.summary["seconds"] = round(time.perf_counter() - self.started, 1)
        history.finish_run(engine, self.run_id, status="succeeded", exit_code=SUCCEEDED, summary=self.summary)
        history.set_step(engine, self.run_id, "done")
        serving = registry.serving_version(engine)
        message = (f"retrain run {self.run_id}: {self.summary['decision']} ({challenger.version}); "
                   f"{'; '.join(self.comparison.reasons)}; {self.summary['drift']['message'].split(';')[0]}; "
                   f"serving {serving.version if serving else 'nothing'}; {self.summary['seconds']:.0f} s")
        return RetrainOutcome(SUCCEEDED, self.run_id, self.summary, message, report)

    def ingest(self) -> list[str]:
        config, loaded = self.config, []
        who = self.triggered_by
        if config.inbox_dir is not None:
            loaded += [r.summary() for r in load_inbox(self.engine, config.inbox_dir, hash_key=config.hash_key,
                                                       loaded_by=who, progress=self.progress)]
        if config.sql_source is not None:
            loaded += [r.summary() for r in load_sql(self.engine, config.sql_source, hash_key=config.hash_key,
                                                     loaded_by=who, progress=self.progress)]
        return loaded

    def _comparison_facts(self) -> dict[str, Any]:
        c = self.comparison
        champion = CHAMPION if c.champion_version else BASELINE
        return {"champion": c.champion_version, "folds": int(c.metrics["fold"].nunique()),
                "challenger_ap": c.mean(CHALLENGER, "average_precision"), "champion_ap": c.mean(champion, "average_precision"),
                "challenger_ece": c.mean(CHALLENGER, "ece"), "champion_ece": c.mean(champion, "ece"),
                "margin": self.config.comparison.margin, "would_promote": c.promote}

    def _backtest_entry(self) -> dict[str, Any]:
        """The comparison in the manifest's ``backtest`` shape, so `concord models promote` and the card read it."""
        metrics = self.comparison.metrics.replace({CHALLENGER: "model"})
        metrics = metrics.assign(origin=metrics["origin"].dt.date.astype(str))
        return {"metrics": history.json_ready(metrics.to_dict("records")), "origin": "retrain comparison",
                "gates": {"passed": self.comparison.promote, "reasons": [] if self.comparison.promote else list(self.comparison.reasons),
                          "table": [], "bounds": []}}

    def fail(self, exc: Exception) -> RetrainOutcome:
        self.summary["seconds"] = round(time.perf_counter() - self.started, 1)
        with_step = f"{type(exc).__name__}: {exc}"
        history.finish_run(self.engine, self.run_id, status="failed", exit_code=FAILED, summary=self.summary, error=with_step)
        return RetrainOutcome(FAILED, self.run_id, self.summary,
                              f"retrain run {self.run_id} failed, the serving model is unchanged: {with_step}")


def _labels_for(panel: pd.DataFrame, prepared: pd.DataFrame, training_labels: TrainingLabels) -> pd.Series:
    """The training labels (computed on the time-ordered ``prepared`` panel) put back in ``panel``'s row order."""
    keyed = pd.Series(training_labels(prepared), index=pd.MultiIndex.from_frame(prepared[["area_id", "period_start"]].astype({"area_id": str})))
    index = pd.MultiIndex.from_frame(panel[["area_id", "period_start"]].astype({"area_id": str}))
    return pd.Series(keyed.reindex(index).to_numpy(float), index=panel.index)
