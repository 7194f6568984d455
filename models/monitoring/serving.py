"""The serving version, loaded once and seen two ways: as the champion to beat, and as drift's scorer."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from sqlalchemy.engine import Engine

from models import registry
from models.escalation import EscalationModel
from models.monitoring.compare import Champion
from models.monitoring.drift import ServingModel


def load_champion(engine: Engine, *, registry_dir: Path) -> Champion | None:
    """The serving escalation model with the end of its training window, or None when nothing serves.

    A serving artifact that fails its checksum or library check raises
    ``registry.ArtifactRejected``: a retrain must not silently replace a
    model it cannot read without someone looking.
    """
    serving = registry.serving_version(engine)
    if serving is None:
        return None
    model, record = registry.load_artifact(engine, registry_dir=registry_dir, version=serving.version)
    if not isinstance(model, EscalationModel):
        raise registry.ArtifactRejected(f"model {serving.version} is not an escalation model")
    end = record.manifest.get("training_window", ["", model.training_window[1]])[1] or model.training_window[1]
    return Champion(version=serving.version, model=model, training_end=pd.Timestamp(end))


def as_scorer(champion: Champion) -> ServingModel:
    model = champion.model

    def predict(panel: pd.DataFrame) -> pd.Series:
        return pd.Series(model.predict_proba(model.prepare(panel)), index=panel.index)

    return ServingModel(version=champion.version, training_end=champion.training_end, predict=predict)
