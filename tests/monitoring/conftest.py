"""Prepared states for the monitoring tests, built once per session and copied per test.

A state is a data directory with a SQLite database: the city's records up
to the cut loaded, features built, a champion serving, and the later
records waiting in ``inbox/``. Building one takes a simulation, a load, a
feature build and a training; copying it takes milliseconds, so each test
gets its own database and registry to change.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy.engine import Engine

from features.load_directory import load_directory
from features.pipeline import PanelSpec, build_features, feature_columns, load_panel
from features.storage import make_engine, upgrade
from models import registry
from models.jobs import train_and_register
from models.monitoring.compare import ComparisonPlan
from models.monitoring.drift import DriftConfig
from models.monitoring.retrain import RetrainConfig
from tests.monitoring.city import Drift, simulated_split

COMMUNITIES, WEEKS, AFTER_WEEKS, SEED = 60, 100, 14, 11
HASH_KEY = b"monitoring-tests"


@dataclass
class State:
    root: Path
    engine: Engine
    champion: str

    @property
    def inbox(self) -> Path:
        return self.root / "inbox"

    def config(self, **changes: object) -> RetrainConfig:
        values = {"data_dir": self.root, "registry_dir": self.root / "registry", "spec": PanelSpec(), "hash_key": HASH_KEY,
                  "inbox_dir": self.inbox, "drift": DriftConfig(report_columns=10),
                  "comparison": ComparisonPlan(folds=3, stride=4), "counts": False}
        return RetrainConfig(**{**values, **changes})


def shuffled(labels: np.ndarray, *, seed: int = 0) -> np.ndarray:
    """Labels permuted across the labelled rows: the base rate kept, every link to the features cut."""
    y = labels.copy()
    known = ~np.isnan(y)
    y[known] = np.random.default_rng(seed).permutation(y[known])
    return y


def url(root: Path) -> str:
    return f"sqlite:///{root / 'concord.db'}"


def _build(root: Path, *, drift: Drift, weak: bool) -> None:
    city = simulated_split(root / "city", communities=COMMUNITIES, weeks=WEEKS, after_weeks=AFTER_WEEKS, seed=SEED, drift=drift)
    engine = make_engine(url(root))
    upgrade(engine)
    load_directory(engine, city.before, hash_key=HASH_KEY, loaded_by="test")
    build_features(engine, spec=PanelSpec(), data_dir=root)
    panel = load_panel(engine, data_dir=root)
    if weak:  # a champion that learnt from corrupted (shuffled) labels: a better challenger must beat it
        panel = panel.assign(label=shuffled(panel["label"].to_numpy(float)))
    model = train_and_register(engine, panel=panel, feature_names=feature_columns(panel), registry_dir=root / "registry",
                               catalogue_hash="test", counts=False, plan=None, promote=False)
    registry.promote(engine, model.version)
    shutil.copytree(city.after, root / "inbox")
    shutil.rmtree(root / "city" / "source")  # the simulator's truth is not needed after the split
    engine.dispose()


@pytest.fixture(scope="session")
def prepared(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., Path]:
    """``prepared(drift=..., weak=...)`` -> a built state directory (cached per combination)."""
    built: dict[tuple, Path] = {}

    def get(*, drift: Drift | None = None, weak: bool = False) -> Path:
        drift = drift or Drift()
        key = (drift, weak)
        if key not in built:
            root = tmp_path_factory.mktemp("state")
            _build(root, drift=drift, weak=weak)
            built[key] = root
        return built[key]

    return get


@pytest.fixture
def state(prepared, tmp_path) -> Callable[..., State]:
    """``state(drift=..., weak=...)`` -> a private copy of a prepared state."""
    engines: list[Engine] = []

    def make(**kwargs: object) -> State:
        root = tmp_path / f"copy{len(engines)}"
        shutil.copytree(prepared(**kwargs), root)
        engine = make_engine(url(root))
        engines.append(engine)
        serving = registry.serving_version(engine)
        return State(root=root, engine=engine, champion=serving.version)

    yield make
    for engine in engines:
        engine.dispose()
