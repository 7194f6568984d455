"""The written files: same seed same bytes, the contracts' columns, clean CSV format, geometry."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from api.cli import app
from features.contracts import CONTRACTS
from features.simulation import FILES, SimulationConfig, simulate

SMALL = SimulationConfig(communities=30, weeks=20, seed=5, start=dt.date(2024, 1, 1))
KIND = {"petitions_corrections": "petitions", "mediation_corrections": "mediation"}


def _bytes(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_same_seed_same_bytes(tmp_path: Path, fmt: str) -> None:
    simulate(SMALL, tmp_path / "a", fmt)
    simulate(SMALL, tmp_path / "b", fmt)
    simulate(SimulationConfig(communities=30, weeks=20, seed=6, start=dt.date(2024, 1, 1)), tmp_path / "c", fmt)
    a, b, c = _bytes(tmp_path / "a"), _bytes(tmp_path / "b"), _bytes(tmp_path / "c")
    assert set(a) == {f"{stem}.{fmt}" for stem in FILES} | {"areas.geojson", "manifest.json"}
    assert a == b
    assert a[f"petitions.{fmt}"] != c[f"petitions.{fmt}"]


def test_messy_same_seed_same_bytes(tmp_path: Path) -> None:
    config = SimulationConfig(communities=20, weeks=10, seed=2, messy=True)
    simulate(config, tmp_path / "a", "csv")
    simulate(config, tmp_path / "b", "csv")
    assert _bytes(tmp_path / "a") == _bytes(tmp_path / "b")


def test_csv_columns_and_clean_format(tmp_path: Path) -> None:
    simulate(SMALL, tmp_path, "csv")
    for stem in FILES:
        text = (tmp_path / f"{stem}.csv").read_text(encoding="utf-8")  # strict UTF-8
        frame = pd.read_csv(tmp_path / f"{stem}.csv", dtype=str, keep_default_na=False)
        if stem in CONTRACTS or stem in KIND:
            assert tuple(frame.columns) == CONTRACTS[KIND.get(stem, stem)].columns, stem
        for column in frame.columns:
            if column.endswith(("_on", "period_start", "effect_start", "effect_end")):
                values = frame[column][frame[column] != ""]
                assert values.str.fullmatch(r"\d{4}-\d{2}-\d{2}").all(), (stem, column)
        assert "True" not in text and "False" not in text and "NaN" not in text and "NaT" not in text
    petitions = pd.read_csv(tmp_path / "petitions.csv", dtype=str, keep_default_na=False)
    assert set(petitions["is_repeat"]) <= {"true", "false"}
    assert set(petitions["satisfied"]) <= {"true", "false", ""}
    areas = pd.read_csv(tmp_path / "areas.csv", dtype=str, keep_default_na=False)
    assert (areas.loc[areas["level"] == "city", "parent_id"] == "").all()


def test_parquet_columns(tmp_path: Path) -> None:
    simulate(SMALL, tmp_path, "parquet")
    for stem in FILES:
        names = tuple(pq.read_schema(tmp_path / f"{stem}.parquet").names)
        if stem in CONTRACTS or stem in KIND:
            assert names == CONTRACTS[KIND.get(stem, stem)].columns, stem


def test_geojson_tessellation(tmp_path: Path) -> None:
    simulate(SMALL, tmp_path, "parquet")
    collection = json.loads((tmp_path / "areas.geojson").read_text(encoding="utf-8"))
    features = collection["features"]
    assert len(features) == SMALL.communities
    rings = {f["properties"]["area_id"]: [tuple(p) for p in f["geometry"]["coordinates"][0]] for f in features}
    assert all(ring[0] == ring[-1] and len(ring) == 5 for ring in rings.values())
    adjacency = pd.read_parquet(tmp_path / "adjacency.parquet")
    for a, b in adjacency.itertuples(index=False):
        assert len(set(rings[a]) & set(rings[b])) == 2, (a, b)  # neighbours share an edge
    manifest = json.loads((tmp_path / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["seed"] == 5 and manifest["rows"]["petitions.parquet"] > 0
    assert 0 <= manifest["escalation_rate"] <= 1


def test_cli_writes_and_summarises(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["simulate", "--out", str(tmp_path), "--areas", "12", "--weeks", "8",
                                      "--seed", "3", "--format", "parquet"])
    assert result.exit_code == 0, result.output
    assert "escalation rate" in result.output and (tmp_path / "petitions.parquet").is_file()
    bad = CliRunner().invoke(app, ["simulate", "--out", str(tmp_path / "x"), "--start", "2024-01-03"])
    assert bad.exit_code == 2 and "Monday" in bad.output


def test_manifest_figures_match_truth(tmp_path: Path) -> None:
    config = SimulationConfig(communities=80, weeks=60, seed=4)
    summary = simulate(config, tmp_path, "parquet")
    truth = pd.read_parquet(tmp_path / "truth_area_weeks.parquet")
    manifest = json.loads((tmp_path / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["escalation_rate"] == pytest.approx(truth["escalated"].mean(), abs=1e-6)
    ranked = truth.sort_values("p_escalation", ascending=False)
    top = ranked.head(int(0.05 * len(truth)))["escalated"].sum() / truth["escalated"].sum()
    assert summary.oracle_hit_rate_top5 == pytest.approx(top, abs=0.03)
    assert manifest["screened_mediated"] / manifest["screened_disputes"] == pytest.approx(0.70, abs=0.03)
    assert manifest["rows"]["truth_area_weeks.parquet"] == config.communities * config.weeks
