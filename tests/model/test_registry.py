"""The registry refuses tampered or foreign artifacts and promotes atomically."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from features.storage.tables import model_versions
from models import registry
from models.jobs import train_and_register
from models.targets import HISTORY
from models.train import TrainingFailed
from tests.utils.scored_city import FEATURES, synthetic_panel


@pytest.fixture
def trained(engine, tmp_path):
    panel = synthetic_panel([f"A{i}" for i in range(12)])
    model = train_and_register(engine, panel=panel, feature_names=FEATURES, registry_dir=tmp_path, catalogue_hash="c")
    return engine, tmp_path, panel, model


def test_registered_artifact_loads_and_carries_its_manifest(trained) -> None:
    engine, registry_dir, _, model = trained
    artifact, record = registry.load_artifact(engine, registry_dir=registry_dir, version=model.version)
    assert artifact.feature_names == [*FEATURES, *HISTORY]  # the label-history features come last
    for key in ("training_window", "catalogue_hash", "data_hash", "metrics", "libraries", "sha256"):
        assert key in record.manifest
    assert record.serving


def test_tampered_artifact_is_refused(trained) -> None:
    engine, registry_dir, _, model = trained
    path = registry_dir / f"{model.version}.joblib"
    path.write_bytes(path.read_bytes() + b"\0")
    with pytest.raises(registry.ArtifactRejected, match="checksum"):
        registry.load_artifact(engine, registry_dir=registry_dir, version=model.version)


def test_missing_artifact_is_refused(trained) -> None:
    engine, registry_dir, _, model = trained
    (registry_dir / f"{model.version}.joblib").unlink()
    with pytest.raises(registry.ArtifactRejected, match="missing"):
        registry.load_artifact(engine, registry_dir=registry_dir, version=model.version)


def test_other_library_versions_are_refused(trained) -> None:
    engine, registry_dir, _, model = trained
    manifest = dict(model.manifest, libraries=dict(model.manifest["libraries"], **{"scikit-learn": "0.24.0"}))
    with engine.begin() as connection:
        connection.execute(model_versions.update().values(manifest=manifest))
    with pytest.raises(registry.ArtifactRejected, match=r"scikit-learn 0\.24\.0"):
        registry.load_artifact(engine, registry_dir=registry_dir, version=model.version)


def test_exactly_one_version_serves(trained) -> None:
    engine, registry_dir, panel, first = trained
    second = train_and_register(engine, panel=panel, feature_names=FEATURES, registry_dir=registry_dir, catalogue_hash="c")
    assert registry.serving_version(engine).version == second.version
    registry.promote(engine, first.version)
    with engine.connect() as connection:
        serving = connection.execute(sa.select(model_versions.c.version).where(model_versions.c.serving.is_(True))).scalars().all()
    assert serving == [first.version]
    with pytest.raises(registry.UnknownVersion):
        registry.promote(engine, "v-nope")
    assert registry.serving_version(engine).version == first.version


def test_crash_during_promotion_keeps_the_old_version(trained, monkeypatch) -> None:
    engine, registry_dir, panel, first = trained
    second = train_and_register(engine, panel=panel, feature_names=FEATURES, registry_dir=registry_dir,
                                catalogue_hash="c", promote=False)
    real_execute = sa.engine.Connection.execute
    calls = {"n": 0}

    def crash_on_second_update(self, statement, *args, **kwargs):
        if isinstance(statement, sa.Update):
            calls["n"] += 1
            if calls["n"] == 2:
                raise RuntimeError("power cut")
        return real_execute(self, statement, *args, **kwargs)

    monkeypatch.setattr(sa.engine.Connection, "execute", crash_on_second_update)
    with pytest.raises(RuntimeError, match="power cut"):
        registry.promote(engine, second.version)
    monkeypatch.undo()
    assert registry.serving_version(engine).version == first.version


def test_failed_training_leaves_serving_untouched(trained) -> None:
    engine, registry_dir, panel, first = trained
    one_class = panel.assign(label=panel["label"].where(panel["label"].isna(), 0.0))
    before = sorted(p.name for p in registry_dir.iterdir())
    with pytest.raises(TrainingFailed, match="same outcome"):
        train_and_register(engine, panel=one_class, feature_names=FEATURES, registry_dir=registry_dir, catalogue_hash="c")
    assert registry.serving_version(engine).version == first.version
    assert sorted(p.name for p in registry_dir.iterdir()) == before
    assert len(registry.list_versions(engine)) == 1
    json.dumps(first.manifest)  # manifests stay plain JSON


def test_rollback_serves_the_previous_version(trained) -> None:
    engine, registry_dir, panel, first = trained
    second = train_and_register(engine, panel=panel, feature_names=FEATURES, registry_dir=registry_dir, catalogue_hash="c")
    assert registry.serving_version(engine).version == second.version
    assert registry.rollback(engine).version == first.version
    assert registry.serving_version(engine).version == first.version


def test_rollback_without_history_is_refused(engine) -> None:
    with pytest.raises(registry.UnknownVersion, match="roll back"):
        registry.rollback(engine)
