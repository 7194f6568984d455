"""The model registry: joblib artifacts on disk, their checksums and manifests in the database.

A joblib file is a pickle: loading one can run code, and loading across
library versions is unsupported (scikit-learn's persistence guide). So every
artifact's SHA-256 and the library versions that wrote it are recorded at
registration and checked before anything is unpickled; a mismatch refuses
to load and says why. Exactly one version serves at a time; promotion flips
the flag inside one transaction, so a crash leaves either the old or the
new version serving, never none or two.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import importlib.metadata
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import joblib
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from features.storage.tables import model_versions

#: Libraries whose versions must match between writing and loading an artifact.
PINNED_LIBRARIES = ("scikit-learn", "numpy", "pandas", "joblib")


class ArtifactRejected(RuntimeError):
    """An artifact is missing, tampered with, or written by other library versions."""


class UnknownVersion(LookupError):
    """No model version of that name is registered."""


@dataclass(frozen=True)
class RegisteredModel:
    version: str
    created_at: dt.datetime
    sha256: str
    serving: bool
    manifest: dict[str, Any]


def library_versions() -> dict[str, str]:
    return {name: importlib.metadata.version(name) for name in PINNED_LIBRARIES}


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def new_version_name(now: dt.datetime) -> str:
    """Sortable, human-readable version names: ``v20240131-142501-3f2a``."""
    return f"v{now:%Y%m%d-%H%M%S}-{os.urandom(2).hex()}"


def register(engine: Engine, *, registry_dir: Path, artifact: Any, manifest: dict[str, Any]) -> RegisteredModel:
    """Write ``artifact`` with joblib, then record its checksum and manifest.

    The file is written under a temporary name and renamed, so a crash never
    leaves a half-written file under a registered name.
    """
    now = dt.datetime.now(dt.UTC)
    version = new_version_name(now)
    registry_dir.mkdir(parents=True, exist_ok=True)
    path = registry_dir / f"{version}.joblib"
    tmp = path.with_suffix(".joblib.tmp")
    joblib.dump(artifact, tmp)
    os.replace(tmp, path)
    sha = file_sha256(path)
    full_manifest = {
        **manifest,
        "version": version,
        "created_at": now.isoformat(),
        "libraries": library_versions(),
        "sha256": sha,
    }
    with engine.begin() as connection:
        connection.execute(
            model_versions.insert().values(
                version=version, created_at=now, artifact_path=path.name, sha256=sha,
                manifest=full_manifest, serving=False,
            )
        )
    return RegisteredModel(version=version, created_at=now, sha256=sha, serving=False, manifest=full_manifest)


def _row_to_model(row: sa.Row) -> RegisteredModel:
    created = row.created_at if row.created_at.tzinfo else row.created_at.replace(tzinfo=dt.UTC)
    return RegisteredModel(
        version=row.version, created_at=created, sha256=row.sha256, serving=bool(row.serving),
        manifest=dict(row.manifest),
    )


def list_versions(engine: Engine) -> list[RegisteredModel]:
    with engine.connect() as connection:
        rows = connection.execute(sa.select(model_versions).order_by(model_versions.c.created_at.desc()))
        return [_row_to_model(row) for row in rows]


def get_version(engine: Engine, version: str) -> RegisteredModel:
    with engine.connect() as connection:
        row = connection.execute(sa.select(model_versions).where(model_versions.c.version == version)).first()
    if row is None:
        raise UnknownVersion(f"no model version {version!r} is registered")
    return _row_to_model(row)


def serving_version(engine: Engine) -> RegisteredModel | None:
    with engine.connect() as connection:
        row = connection.execute(sa.select(model_versions).where(model_versions.c.serving.is_(True))).first()
    return None if row is None else _row_to_model(row)


def artifact_file(engine: Engine, *, registry_dir: Path, version: str) -> Path:
    with engine.connect() as connection:
        path_name = connection.execute(
            sa.select(model_versions.c.artifact_path).where(model_versions.c.version == version)
        ).scalar()
    if path_name is None:
        raise UnknownVersion(f"no model version {version!r} is registered")
    return registry_dir / path_name


def check_artifact(engine: Engine, *, registry_dir: Path, version: str) -> tuple[RegisteredModel, Path]:
    """The version and its file, after checking the file exists, its checksum and the library versions.

    Raises ``ArtifactRejected`` with the reason; nothing is unpickled, so a
    tampered file is refused before any of its code could run.
    """
    model = get_version(engine, version)
    path = artifact_file(engine, registry_dir=registry_dir, version=version)
    if not path.is_file():
        raise ArtifactRejected(f"model {version}: artifact {path} is missing")
    actual = file_sha256(path)
    if actual != model.sha256:
        raise ArtifactRejected(
            f"model {version}: artifact checksum {actual[:12]}… does not match the registered "
            f"{model.sha256[:12]}…; the file was changed after registration, refusing to load it"
        )
    recorded = model.manifest.get("libraries", {})
    current = library_versions()
    mismatched = {name: (recorded.get(name), current[name]) for name in current if recorded.get(name) != current[name]}
    if mismatched:
        detail = ", ".join(f"{name} {was} → {now}" for name, (was, now) in mismatched.items())
        raise ArtifactRejected(f"model {version} was written with other library versions ({detail}); retrain it")
    return model, path


def load_artifact(engine: Engine, *, registry_dir: Path, version: str) -> tuple[Any, RegisteredModel]:
    """Load a version after ``check_artifact``."""
    model, path = check_artifact(engine, registry_dir=registry_dir, version=version)
    return joblib.load(path), model


def promote(engine: Engine, version: str) -> RegisteredModel:
    """Make ``version`` the one serving version, atomically."""
    with engine.begin() as connection:
        exists = connection.execute(
            sa.select(model_versions.c.version).where(model_versions.c.version == version).with_for_update()
        ).first()
        if exists is None:
            raise UnknownVersion(f"no model version {version!r} is registered")
        connection.execute(model_versions.update().where(model_versions.c.serving.is_(True)).values(serving=False))
        connection.execute(
            model_versions.update()
            .where(model_versions.c.version == version)
            .values(serving=True, promoted_at=dt.datetime.now(dt.UTC))
        )
    return get_version(engine, version)


def rollback(engine: Engine) -> RegisteredModel:
    """Serve again the version that served before the current one."""
    current = serving_version(engine)
    with engine.connect() as connection:
        query = sa.select(model_versions.c.version).where(model_versions.c.promoted_at.is_not(None))
        if current is not None:
            query = query.where(model_versions.c.version != current.version)
        previous = connection.execute(query.order_by(model_versions.c.promoted_at.desc()).limit(1)).scalar()
    if previous is None:
        raise UnknownVersion("no earlier serving version to roll back to")
    return promote(engine, previous)
