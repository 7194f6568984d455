"""Is the serving model's file present and intact? Checked per request, hashed only when it changes.

Scores are served from the database, but a serving version whose artifact
is missing or altered cannot be trusted to have produced them, and the next
scoring run would fail; so readiness and the score endpoints refuse it with
the reason (issue 6). Hashing a model file on every request would cost
milliseconds, so a verdict is kept per (version, size, modification time):
any change to the file is hashed again.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from features.storage.tables import model_versions
from models import registry


@dataclass
class ServingCheck:
    registry_dir: Path
    _verdicts: dict[tuple, str | None] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def problem(self, connection: Connection) -> tuple[str | None, str | None]:
        """(serving version or None, reason it cannot serve or None); one query when the file is unchanged."""
        row = connection.execute(
            sa.select(model_versions.c.version, model_versions.c.sha256, model_versions.c.artifact_path)
            .where(model_versions.c.serving.is_(True))
        ).first()
        if row is None:
            return None, "no model is serving yet; run `concord train` and `concord score`"
        path = self.registry_dir / row.artifact_path
        try:
            stat = path.stat()
        except OSError:
            return row.version, f"model {row.version}: artifact {path.name} is missing from the registry folder"
        key = (row.version, row.sha256, stat.st_size, stat.st_mtime_ns)
        with self._lock:
            if key in self._verdicts:
                return row.version, self._verdicts[key]
        try:
            registry.check_artifact(connection.engine, registry_dir=self.registry_dir, version=row.version)
            verdict = None
        except registry.ArtifactRejected as exc:
            verdict = str(exc)
        with self._lock:
            self._verdicts = {key: verdict}  # only the current file's verdict is worth keeping
        return row.version, verdict
