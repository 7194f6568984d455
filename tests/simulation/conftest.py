"""Shared simulated cities: one mid-sized run in memory for the statistical tests."""

from __future__ import annotations

import pandas as pd
import pytest

from features.simulation import SimulationConfig, simulate_frames

CITY = SimulationConfig(communities=400, weeks=156, seed=11)


@pytest.fixture(scope="session")
def city() -> dict[str, pd.DataFrame]:
    """400 communities over three years (about 2 s), every table as a frame."""
    return simulate_frames(CITY)


def final_versions(originals: pd.DataFrame, corrections: pd.DataFrame, key: str) -> pd.DataFrame:
    """The latest version of every record (corrections override by later recorded_on)."""
    both = pd.concat([originals, corrections], ignore_index=True)
    return both.sort_values([key, "recorded_on"]).drop_duplicates(key, keep="last").reset_index(drop=True)
