"""Train-and-register and score-and-store: the two jobs the CLI and the demo run.

Both take everything as arguments. A training run registers a new version
only after the model is fitted and checked, and promotes only after it is
registered, so a failure at any step leaves the serving version as it was.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from sqlalchemy.engine import Engine

from models import registry
from models.escalation import EscalationModel
from models.score import latest_period, score_period, write_scores
from models.train import train_escalation


@dataclass(frozen=True)
class ScoreSummary:
    model_version: str
    period_start: pd.Timestamp
    areas: int
    high: int
    medium: int


def train_and_register(
    engine: Engine, *, panel: pd.DataFrame, feature_names: list[str], registry_dir: Path,
    catalogue_hash: str, seed: int = 0, promote: bool = True,
) -> registry.RegisteredModel:
    result = train_escalation(panel, feature_names=feature_names, seed=seed, catalogue_hash=catalogue_hash)
    registered = registry.register(engine, registry_dir=registry_dir, artifact=result.model, manifest=result.manifest)
    return registry.promote(engine, registered.version) if promote else registered


def score_and_store(
    engine: Engine, *, panel: pd.DataFrame, registry_dir: Path, high: float, medium: float,
    describe: Mapping[str, str], period: pd.Timestamp | None = None,
) -> ScoreSummary:
    """Score every area of ``period`` (default: the latest) with the serving model."""
    serving = registry.serving_version(engine)
    if serving is None:
        raise LookupError("no model is serving; run `concord train` first")
    model, _ = registry.load_artifact(engine, registry_dir=registry_dir, version=serving.version)
    if not isinstance(model, EscalationModel):
        raise registry.ArtifactRejected(f"model {serving.version} is not an escalation model")
    start = period if period is not None else latest_period(panel)
    scored = score_period(panel, model=model, period=start, high=high, medium=medium, describe=describe)
    write_scores(engine, scored, model_version=serving.version)
    levels = scored["level"].value_counts()
    return ScoreSummary(
        model_version=serving.version, period_start=start, areas=len(scored),
        high=int(levels.get("high", 0)), medium=int(levels.get("medium", 0)),
    )
