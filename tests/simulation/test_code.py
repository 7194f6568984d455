"""The simulator's code: its dependencies and its streaming."""

from __future__ import annotations

import ast
import dataclasses
import sys
from pathlib import Path

from features.simulation import SimulationConfig, simulate

PACKAGE = Path(__file__).resolve().parents[2] / "features" / "simulation"
ALLOWED = {"numpy", "pandas", "pyarrow", "__future__"}
ALLOWED_FEATURES = {"features.contracts", "features.calendar"}


def test_depends_only_on_numpy_pandas_pyarrow_and_shared_modules() -> None:
    for path in PACKAGE.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module] if isinstance(node, ast.ImportFrom) and node.module else [])
            for name in names:
                top = name.split(".")[0]
                if top == "features":
                    assert name.startswith("features.simulation") or name in ALLOWED_FEATURES, (path.name, name)
                else:
                    assert top in ALLOWED or top in sys.stdlib_module_names, (path.name, name)


def test_modules_are_short_and_documented() -> None:
    for path in PACKAGE.glob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert ast.get_docstring(ast.parse(text)), path.name
        assert len(text.splitlines()) <= 270, path.name


def test_chunked_writing_gives_the_same_csv(tmp_path: Path) -> None:
    config = SimulationConfig(communities=25, weeks=15, seed=8)
    simulate(config, tmp_path / "big", "csv")
    simulate(dataclasses.replace(config, chunk_rows=50), tmp_path / "small", "csv")
    for path in (tmp_path / "big").glob("*.csv"):
        assert path.read_bytes() == (tmp_path / "small" / path.name).read_bytes(), path.name
