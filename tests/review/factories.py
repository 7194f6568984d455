"""Simulated cities for the review tests: frames, a History, and the same records in a database."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sqlalchemy.engine import Engine

from features.simulation import SimulationConfig, simulate_frames
from features.simulation.config import PolicyParams, PopulationParams
from features.storage.tables import (
    adjacency,
    areas,
    load_batches,
    mediation_cases,
    petitions,
    policies,
    policy_areas,
    population,
)
from models.policy.history import History, history_from_frames


def recovery_config(*, seed: int = 3) -> SimulationConfig:
    """A city with many past decisions and busy communities: the recovery test's ground truth.

    400 communities over five years with decisions at 1.5x the default rate
    give about 110 decisions, enough for a coverage figure with a standard
    error near 2 points; 40,000-resident communities (the top of DESIGN.md's
    range) give each decision's windows enough disputes to say something.
    """
    return SimulationConfig(communities=400, weeks=260, seed=seed,
                            policies=PolicyParams(rate_per_community_week=0.0012),
                            population=PopulationParams(residents_median=40_000))


def small_config(*, seed: int = 5) -> SimulationConfig:
    """A small city for API and report tests: quick, with a few decisions of most types."""
    return SimulationConfig(communities=60, weeks=130, seed=seed,
                            policies=PolicyParams(rate_per_community_week=0.004),
                            population=PopulationParams(residents_median=30_000))


def dispute_rows(frames: dict[str, pd.DataFrame]) -> pd.DataFrame:
    pet = frames["petitions"][["area_id", "received_on", "category"]].set_axis(["area_id", "day", "family"], axis=1)
    med = frames["mediation"][["area_id", "opened_on", "dispute_type"]].set_axis(["area_id", "day", "family"], axis=1)
    return pd.concat([pet, med], ignore_index=True)


def decision_areas(frames: dict[str, pd.DataFrame]) -> pd.DataFrame:
    pol = frames["policies"]
    return pol[["policy_id"]].assign(area_id=pol["areas"].str.split(";")).explode("area_id")


def history_of(frames: dict[str, pd.DataFrame], config: SimulationConfig) -> History:
    pop = frames["population"].sort_values("period_start")
    return history_from_frames(
        area_frame=frames["areas"], adjacency_frame=frames["adjacency"], disputes=dispute_rows(frames),
        residents=pop[["area_id", "residents"]], decisions=frames["policies"], decision_areas=decision_areas(frames),
        until=config.end)


@dataclass
class SimulatedCity:
    config: SimulationConfig
    frames: dict[str, pd.DataFrame]


def simulated(config: SimulationConfig) -> SimulatedCity:
    return SimulatedCity(config=config, frames=simulate_frames(config))


def _records(frame: pd.DataFrame, columns: list[str], batch_id: int) -> list[dict]:
    out = frame[columns].astype(object).where(frame[columns].notna(), None)
    rows = out.to_dict("records")
    for row in rows:
        row["content_hash"] = "sim"
        row["batch_id"] = batch_id
        for key, value in row.items():
            if isinstance(value, pd.Timestamp):
                row[key] = value.date()
    return rows


def load_into(engine: Engine, city: SimulatedCity) -> None:
    """Write the simulated records straight into the tables (first versions only: no loader needed)."""
    f = city.frames
    now = dt.datetime.now(dt.UTC)
    with engine.begin() as connection:
        batch = connection.execute(load_batches.insert().values(
            kind="simulated", source="tests.review", sha256="0" * 64, rows_in=0, rows_added=0, rows_corrected=0,
            rows_unchanged=0, loaded_at=now, loaded_by="test")).inserted_primary_key[0]
        connection.execute(areas.insert(), _records(f["areas"], ["area_id", "name", "parent_id", "level"], batch))
        connection.execute(adjacency.insert(), _records(f["adjacency"], ["area_id", "neighbor_id"], batch))
        pet = f["petitions"].assign(version=1)
        connection.execute(petitions.insert(), _records(pet, ["petition_id", "version", "area_id", "received_on",
                                                              "recorded_on", "category", "people"], batch))
        med = f["mediation"].assign(version=1)
        connection.execute(mediation_cases.insert(), _records(med, ["case_id", "version", "area_id", "opened_on",
                                                                    "recorded_on", "dispute_type"], batch))
        pop = f["population"][f["population"]["period_start"] == f["population"]["period_start"].max()]
        connection.execute(population.insert(), _records(pop, ["area_id", "period_start", "residents"], batch))
        pol = f["policies"].assign(hearing_held=f["policies"]["hearing_held"].astype(bool))
        connection.execute(policies.insert(), _records(pol, ["policy_id", "type", "announced_on", "effective_on",
                                                             "households_affected", "compensation_ratio",
                                                             "hearing_held", "description"], batch))
        connection.execute(policy_areas.insert(), _records(decision_areas(f), ["policy_id", "area_id"], batch)
                           and [{"policy_id": r["policy_id"], "area_id": r["area_id"]}
                                for r in decision_areas(f).to_dict("records")])


def communities(frames: dict[str, pd.DataFrame]) -> list[str]:
    a = frames["areas"]
    return sorted(a.loc[a["level"] == "community", "area_id"].astype(str))


def seeded(values: list[str], n: int, seed: int = 0) -> list[str]:
    return list(np.random.default_rng(seed).choice(values, size=n, replace=False))
