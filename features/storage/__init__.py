"""Storage: one SQLAlchemy schema for Concord, created and changed only by migrations."""

from features.storage.engine import make_engine
from features.storage.migrate import upgrade
from features.storage.tables import metadata

__all__ = ["make_engine", "metadata", "upgrade"]
