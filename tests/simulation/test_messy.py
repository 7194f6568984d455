"""--messy writes GB18030 with exactly the dirt its manifest lists."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from features.simulation import SimulationConfig, simulate

CONFIG = SimulationConfig(communities=60, weeks=40, seed=9, messy=True)


@pytest.fixture(scope="module")
def messy(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("messy")
    simulate(CONFIG, out, "csv")
    return out


def read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="gb18030")


def test_encoding_is_gb18030(messy: Path) -> None:
    raw = (messy / "areas.csv").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    assert "社区" in raw.decode("gb18030")


def test_dirt_matches_manifest(messy: Path) -> None:
    manifest = json.loads((messy / "manifest.json").read_text(encoding="utf-8"))
    dirt = manifest["messy"]
    assert manifest["encoding"] == "gb18030"
    areas = set(read(messy / "areas.csv")["area_id"])
    for stem, key in (("petitions", "petition_id"), ("mediation", "case_id")):
        frame, listed = read(messy / f"{stem}.csv"), dirt[stem]
        counts = frame[key].value_counts()
        assert set(counts[counts == 2].index) == set(listed["duplicated_ids"]) and listed["duplicated_ids"]
        unknown = frame.loc[~frame["area_id"].str.strip().isin(areas), key]
        assert set(unknown) == set(listed["unknown_area_ids"])
        for column, ids in listed["whitespace"].items():
            padded = frame.loc[frame[column] != frame[column].str.strip(), key]
            assert set(padded) == set(ids), column
        assert sum(len(v) for v in listed["whitespace"].values()) > 0
        assert sum(len(v) for v in listed["blanked"].values()) > 0
        for column, ids in listed["blanked"].items():
            assert (frame.loc[frame[key].isin(ids), column] == "").all(), column
    formats = dirt["petitions"]["date_formats"]
    assert all(formats[name] > 0 for name in ("iso", "slash", "chinese"))
    dates = read(messy / "petitions.csv")["received_on"]
    assert dates.str.contains("年").sum() > 0 and dates.str.fullmatch(r"\d{4}/\d{1,2}/\d{1,2}").sum() > 0


def test_messy_keeps_the_clean_events(messy: Path, tmp_path: Path) -> None:
    clean = tmp_path / "clean"
    simulate(SimulationConfig(communities=60, weeks=40, seed=9), clean, "csv")
    dirty_ids = set(read(messy / "petitions.csv")["petition_id"])
    clean_ids = set(pd.read_csv(clean / "petitions.csv", dtype=str)["petition_id"])
    assert dirty_ids == clean_ids
    assert (clean / "truth_area_weeks.csv").read_text(encoding="utf-8").count("\n") > 0
