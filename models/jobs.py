"""Train-and-register and score-and-store: the two jobs the CLI and the demo run.

Both take everything as arguments. A training run fits the model, backtests
the same recipe on rolling origins and checks the promotion gates; it
registers a new version only after all of that succeeded, and promotes it
only when the gates pass (a refused version stays registered, with the
reasons in its manifest). A failure at any step leaves the serving version
as it was.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from sqlalchemy.engine import Engine

from models import registry
from models.escalation import EscalationModel
from models.card import render_model_card
from models.evaluate import BacktestPlan, backtest, backtest_manifest, gates, metrics_frame, recorded_gates
from models.movers import biggest_movers, previous_period
from models.score import explain_period, frame_of, latest_period, write_scores
from models.train import train_escalation


@dataclass(frozen=True)
class TrainOutcome(registry.RegisteredModel):
    """A registered version, whether it was promoted, and why not."""

    gates_passed: bool = False
    refused: tuple[str, ...] = ()


@dataclass(frozen=True)
class ScoreSummary:
    model_version: str
    period_start: pd.Timestamp
    areas: int
    high: int
    medium: int
    movers: list[dict] = field(default_factory=list)
    previous_period: pd.Timestamp | None = None


def train_and_register(
    engine: Engine, *, panel: pd.DataFrame, feature_names: list[str], registry_dir: Path,
    catalogue_hash: str, seed: int = 0, promote: bool = True, plan: BacktestPlan | None = BacktestPlan(),
    truth: pd.DataFrame | None = None, adjacency: pd.DataFrame | None = None, counts: bool = True,
    progress: Callable[[str], None] | None = None,
) -> TrainOutcome:
    """Train, backtest, register; promote when asked and the gates pass.

    ``plan=None`` skips the backtest: the version is registered without
    gates and is never promoted (``concord models promote`` refuses it too).
    """
    result = train_escalation(panel, feature_names=feature_names, seed=seed, catalogue_hash=catalogue_hash,
                              counts=counts, progress=progress)
    manifest = dict(result.manifest)
    if plan is not None:
        tested = backtest(panel, feature_names=feature_names, plan=plan, seed=seed, truth=truth, adjacency=adjacency,
                          counts=False, progress=progress)  # the gates judge the classifier; `concord backtest` scores counts
        verdict = gates(tested)
        manifest["backtest"] = backtest_manifest(tested, verdict)
        passed, reasons = verdict.passed, verdict.reasons
    else:
        passed, reasons = False, ("no backtest was run",)
    registered = registry.register(engine, registry_dir=registry_dir, artifact=result.model, manifest=manifest)
    if promote and passed:
        registered = registry.promote(engine, registered.version)
    refused = tuple(reasons) if promote and not passed else ()
    return TrainOutcome(**vars(registered), gates_passed=passed, refused=refused)


def score_and_store(
    engine: Engine, *, panel: pd.DataFrame, registry_dir: Path, high: float, medium: float,
    describe: Mapping[str, str], period: pd.Timestamp | None = None, suppression_k: int = 5, movers: int = 10,
) -> ScoreSummary:
    """Score every area of ``period`` (default: the latest) with the serving model; list the biggest movers."""
    serving = registry.serving_version(engine)
    if serving is None:
        raise LookupError("no model is serving; run `concord train` first")
    model, _ = registry.load_artifact(engine, registry_dir=registry_dir, version=serving.version)
    if not isinstance(model, EscalationModel):
        raise registry.ArtifactRejected(f"model {serving.version} is not an escalation model")
    start = pd.Timestamp(period) if period is not None else latest_period(panel)
    prepared = model.prepare(panel)
    now = explain_period(prepared, model=model, period=start)
    scored = frame_of(now, model=model, high=high, medium=medium, describe=describe, suppression_k=suppression_k)
    before_start = previous_period(prepared, start)
    moved: list[dict] = []
    if before_start is not None and movers:
        before = explain_period(prepared, model=model, period=before_start)
        moved = biggest_movers(now, before, feature_names=model.feature_names, describe=describe, high=high,
                               medium=medium, top=movers)
    write_scores(engine, scored, model_version=serving.version)
    levels = scored["level"].value_counts()
    return ScoreSummary(
        model_version=serving.version, period_start=start, areas=len(scored),
        high=int(levels.get("high", 0)), medium=int(levels.get("medium", 0)), movers=moved,
        previous_period=before_start,
    )


def promote_checked(engine: Engine, *, registry_dir: Path, version: str) -> registry.RegisteredModel:
    """Serve ``version`` if its file checks out and it passed its promotion gates; else ``ArtifactRejected``.

    The one path to promotion for the CLI and the API, so both refuse the
    same versions for the same reasons.
    """
    record, _ = registry.check_artifact(engine, registry_dir=registry_dir, version=version)
    passed, reasons = recorded_gates(record.manifest)
    if not passed:
        raise registry.ArtifactRejected(f"{version} failed the promotion gates: " + "; ".join(reasons))
    return registry.promote(engine, version)


def model_card_html(model: registry.RegisteredModel) -> str:
    """The version's model card; ``ValueError`` when it has no backtest to show."""
    metrics = metrics_frame(model.manifest)
    if metrics.empty:
        raise ValueError(f"{model.version} has no recorded backtest; a model card needs one (train it with `concord train`)")
    manifest = dict(model.manifest, library_versions=model.manifest.get("libraries", {}))
    return render_model_card(version=model.version, manifest=manifest, metrics=metrics)
