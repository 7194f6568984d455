"""Factories for a tiny scored city: areas in the database, a synthetic panel, a serving model.

They write straight into the tables so API and model tests do not depend on
the loaders or the simulator.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from features.storage.tables import areas, load_batches
from models.jobs import score_and_store, train_and_register

FEATURES = ["recent", "history", "noise"]


def insert_areas(engine: Engine, *, districts: int = 2, communities_per_district: int = 6) -> list[str]:
    """City X0 → districts D1.. → communities C<d><n>; returns community ids."""
    now = dt.datetime.now(dt.UTC)
    rows = [dict(area_id="X0", name="测试市", parent_id=None, level="city")]
    communities = []
    for d in range(1, districts + 1):
        rows.append(dict(area_id=f"D{d}", name=f"第{d}区", parent_id="X0", level="district"))
        for n in range(1, communities_per_district + 1):
            cid = f"C{d}{n:02d}"
            communities.append(cid)
            rows.append(dict(area_id=cid, name=f"社区{d}-{n}", parent_id=f"D{d}", level="community"))
    with engine.begin() as connection:
        batch_id = connection.execute(load_batches.insert().values(
            kind="areas", source="factory", sha256="0" * 64, rows_in=len(rows), rows_added=len(rows),
            rows_corrected=0, rows_unchanged=0, loaded_at=now, loaded_by="test",
        )).inserted_primary_key[0]
        connection.execute(areas.insert(), [dict(row, content_hash=row["area_id"], batch_id=batch_id) for row in rows])
    return communities


def synthetic_panel(area_ids: list[str], *, periods: int = 40, seed: int = 0) -> pd.DataFrame:
    """A panel where ``recent`` drives the label, so a model has something real to learn."""
    rng = np.random.default_rng(seed)
    starts = pd.date_range("2024-01-01", periods=periods, freq="7D")
    frame = pd.DataFrame(
        [(a, s) for s in starts for a in area_ids], columns=["area_id", "period_start"]
    )
    risk = {a: rng.gamma(1.0, 1.0) for a in area_ids}
    frame["recent"] = [rng.poisson(risk[a] * 2) for a in frame["area_id"]]
    frame["history"] = frame["area_id"].map(risk).astype(float)
    frame["noise"] = rng.normal(size=len(frame))
    p = 1 / (1 + np.exp(-(frame["recent"] - 4.0)))
    frame["label"] = (rng.random(len(frame)) < p).astype(float)
    frame.loc[frame["period_start"] == starts[-1], "label"] = np.nan
    return frame


def serve_scores(engine: Engine, *, registry_dir: Path, area_ids: list[str]) -> str:
    """Train, register, promote and score the latest period; returns the version."""
    panel = synthetic_panel(area_ids)
    model = train_and_register(engine, panel=panel, feature_names=FEATURES, registry_dir=registry_dir, catalogue_hash="test")
    score_and_store(engine, panel=panel, registry_dir=registry_dir, high=0.5, medium=0.2, describe={"recent": "recent petitions"})
    return model.version


def count(engine: Engine, table: sa.Table) -> int:
    with engine.connect() as connection:
        return connection.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
