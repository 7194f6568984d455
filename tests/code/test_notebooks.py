"""Notebooks are executed, so they cannot rot: each runs top to bottom on a small city."""

from __future__ import annotations

import runpy
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[2] / "notebooks").glob("[0-9][0-9]_*.py"))


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda path: path.stem)
def test_notebook_runs(notebook: Path, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("NOTEBOOK_COMMUNITIES", "40")
    monkeypatch.setenv("NOTEBOOK_WEEKS", "70")
    monkeypatch.setenv("NOTEBOOK_OUT", str(tmp_path))
    runpy.run_path(str(notebook), run_name="__main__")
    assert (tmp_path / "overview.png").stat().st_size > 0


def test_there_is_a_notebook() -> None:
    assert NOTEBOOKS
