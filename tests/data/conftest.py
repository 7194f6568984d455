"""Loader fixtures: a database with the factory's areas already loaded, and a load helper."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from features.ingest import LoadReport, load_file, load_frame
from tests.utils.records import areas_frame, write_records_file

HASH_KEY = b"test-hash-key"


@pytest.fixture
def load(engine, tmp_path) -> Callable[..., LoadReport]:
    """``load(kind, frame_or_path, name=..., **options)``: write a frame to a file and load it."""
    counter = iter(range(10_000))

    def _load(kind: str, data: pd.DataFrame | Path, *, suffix: str = ".csv", **options) -> LoadReport:
        path = data if isinstance(data, Path) else write_records_file(
            data, tmp_path / f"{kind}-{next(counter)}{suffix}", encoding=options.pop("file_encoding", "utf-8")
        )
        return load_file(engine, kind, path, hash_key=HASH_KEY, loaded_by="test", **options)

    return _load


@pytest.fixture
def areas(engine) -> pd.DataFrame:
    """The factory's area hierarchy, loaded; other kinds reference it."""
    frame = areas_frame()
    load_frame(engine, "areas", frame, source="factory", hash_key=HASH_KEY, loaded_by="test")
    return frame
