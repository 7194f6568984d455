"""Is the serving model's file present and intact? Checked per request, hashed only when it changes.

Scores are served from the database, but a serving version whose artifact
is missing or altered cannot be trusted to have produced them, and the next
scoring run would fail; so readiness and the score endpoints refuse it with
the reason (issue 6). Hashing a model file on every request would cost
milliseconds, so a verdict is kept per (version, size, modification time):
any change to the file is hashed again. The hot paths also keep which
version serves for a few seconds (docs/adr/0013); readiness always asks.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from api.off_loop import io_point
from api.ttl_cache import TtlCache
from features.storage.tables import model_versions
from models import registry

_NO_MODEL = "no model is serving yet; run `concord train` and `concord score`"


@dataclass
class ServingCheck:
    registry_dir: Path
    recheck_seconds: float = 0.0
    _verdicts: dict[tuple, str | None] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _rows: TtlCache[str, sa.Row] = field(init=False)

    def __post_init__(self) -> None:
        self._rows = TtlCache(self.recheck_seconds, max_items=1)

    def problem(self, connection: Connection) -> tuple[str | None, str | None]:
        """(serving version or None, reason it cannot serve or None), asking the database now (readiness)."""
        return self._judge(_serving_row(connection), engine=connection.engine)

    def serving(self, engine: Engine) -> tuple[str | None, str | None]:
        """``problem`` with the serving row kept ``recheck_seconds`` (the hot paths; docs/adr/0013).

        Asks the database or hashes the file only after ``io_point()``, so it can ``run_warm``.
        """
        return self._judge(self._rows.get("serving", lambda: _read_row(engine)), engine=engine)

    def _judge(self, row: sa.Row | None, *, engine: Engine) -> tuple[str | None, str | None]:
        if row is None:
            return None, _NO_MODEL
        key = _file_key(self.registry_dir, row)
        if key is None:
            return row.version, f"model {row.version}: artifact {Path(row.artifact_path).name} is missing from the registry folder"
        with self._lock:
            if key in self._verdicts:
                return row.version, self._verdicts[key]
        io_point()
        try:
            registry.check_artifact(engine, registry_dir=self.registry_dir, version=row.version)
            verdict = None
        except registry.ArtifactRejected as exc:
            verdict = str(exc)
        with self._lock:
            self._verdicts = {key: verdict}  # only the current file's verdict is worth keeping
        return row.version, verdict


def _serving_row(connection: Connection) -> sa.Row | None:
    return connection.execute(
        sa.select(model_versions.c.version, model_versions.c.sha256, model_versions.c.artifact_path)
        .where(model_versions.c.serving.is_(True))
    ).first()


def _read_row(engine: Engine) -> sa.Row | None:
    with engine.connect() as connection:
        return _serving_row(connection)


def _file_key(registry_dir: Path, row: sa.Row) -> tuple | None:
    """What identifies the file's verdict: the row and the file's size and modification time (None: no file)."""
    try:
        stat = (registry_dir / row.artifact_path).stat()
    except OSError:
        return None
    return (row.version, row.sha256, stat.st_size, stat.st_mtime_ns)
