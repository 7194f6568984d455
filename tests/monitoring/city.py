"""A simulated city cut in two: what was known before a date, and a later drop with drift injected.

``before`` holds every record known (recorded) before the cut and is loaded
up front; ``after`` holds the rest, named as an inbox expects. ``Drift``
says what to inject into the later drop, each the way it would reach a data
office: a new migrant inflow (population rows), a new petition channel
(never seen before the cut, then most petitions), a category renamed in the
exports, a shock of land requisitions across the city.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from features.simulation import SimulationConfig, simulate

RECORD_FILES = {"petitions": "recorded_on", "mediation": "recorded_on", "petitions_corrections": "recorded_on",
                "mediation_corrections": "recorded_on", "population": "period_start", "policies": "announced_on"}
RENAMED = ("labour_wages", "wage_arrears")
NEW_CHANNEL = "online"


@dataclass(frozen=True)
class Drift:
    migrants: bool = False
    channel: bool = False
    rename: bool = False
    policy_shock: bool = False

    @classmethod
    def everything(cls) -> Drift:
        return cls(migrants=True, channel=True, rename=True, policy_shock=True)


@dataclass(frozen=True)
class SplitCity:
    before: Path
    after: Path
    cut: dt.date
    truth: Path


def _read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def simulated_split(root: Path, *, communities: int, weeks: int, after_weeks: int, seed: int,
                    drift: Drift = Drift()) -> SplitCity:
    source = root / "source"
    config = SimulationConfig(communities=communities, weeks=weeks, seed=seed)
    if not (source / "manifest.json").exists():
        simulate(config, source, "csv")
    cut = config.start + dt.timedelta(weeks=weeks - after_weeks)
    before, after = root / "before", root / "after"
    before.mkdir(parents=True, exist_ok=True)
    after.mkdir(parents=True, exist_ok=True)
    for name in ("areas", "adjacency"):
        _read(source / f"{name}.csv").to_csv(before / f"{name}.csv", index=False)
    rng = np.random.default_rng(seed)
    for name, column in RECORD_FILES.items():
        frame = _read(source / f"{name}.csv")
        late = frame[column] >= cut.isoformat()
        early_part, late_part = frame[~late].copy(), frame[late].copy()
        early_part, late_part = _inject(name, early_part, late_part, drift=drift, rng=rng, cut=cut,
                                        areas=_read(source / "areas.csv"))
        for folder, part in ((before, early_part), (after, late_part)):
            if len(part):  # a header-only CSV is refused by ingestion today (see the monitoring report)
                part.to_csv(folder / f"{name}.csv", index=False)
    return SplitCity(before=before, after=after, cut=cut, truth=source / "truth_area_weeks.csv")


def _inject(name: str, early: pd.DataFrame, late: pd.DataFrame, *, drift: Drift, rng: np.random.Generator,
            cut: dt.date, areas: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    if name == "population" and drift.migrants:
        migrants = late["migrants"].replace("", "0").astype(int)
        added = migrants * 2 + 3000
        late["migrants"] = (migrants + added).astype(str)
        late["residents"] = (late["residents"].astype(int) + added).astype(str)
    if name.startswith("petitions") and drift.channel:
        early["channel"] = early["channel"].replace({NEW_CHANNEL: "phone"})
        late["channel"] = np.where(rng.random(len(late)) < 0.7, NEW_CHANNEL, late["channel"].replace({NEW_CHANNEL: "phone"}))
    if drift.rename and name.startswith(("petitions", "mediation")):
        column = "category" if name.startswith("petitions") else "dispute_type"
        late[column] = late[column].replace({RENAMED[0]: RENAMED[1]})
    if name == "policies" and drift.policy_shock:
        communities = areas.loc[areas["level"] == "community", "area_id"].tolist()
        groups = np.array_split(np.array(communities), max(1, len(communities) // 6))
        shock = pd.DataFrame({
            "policy_id": [f"SHOCK{i:03d}" for i in range(len(groups))], "type": "land_requisition",
            "areas": [";".join(g) for g in groups], "announced_on": (cut + dt.timedelta(days=3)).isoformat(),
            "effective_on": (cut + dt.timedelta(days=40)).isoformat(), "households_affected": "800",
            "compensation_ratio": "0.5", "hearing_held": "false", "description": "城市更新征地",
        })
        late = pd.concat([late, shock], ignore_index=True)
    return early, late
