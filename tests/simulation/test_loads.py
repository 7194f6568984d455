"""Every simulated file loads through `concord load`; messy files are cleaned or rejected as promised."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from api.cli import app
from features.ingest import BatchRejected, load_file
from features.load_directory import record_files
from features.simulation import SimulationConfig, simulate
from features.storage import make_engine, upgrade
from tests.utils.records import stored_counts

KEY = b"test-key"


@pytest.fixture(scope="module")
def clean(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("clean")
    simulate(SimulationConfig(communities=40, weeks=30, seed=5), out, "csv")
    return out


@pytest.fixture(scope="module")
def messy(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("messy")
    simulate(SimulationConfig(communities=40, weeks=30, seed=5, messy=True), out, "csv")
    return out


def test_every_clean_file_loads_through_the_cli(clean, tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CONCORD_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("CONCORD_DATABASE_URL", raising=False)
    runner = CliRunner()
    for kind, path in record_files(clean):
        result = runner.invoke(app, ["load", kind, str(path)])
        assert result.exit_code == 0, (path.name, result.output)
    counts = stored_counts(make_engine(f"sqlite:///{tmp_path / 'concord.db'}"))
    rows = json.loads((clean / "manifest.json").read_text(encoding="utf-8"))["rows"]
    assert counts["areas"] == rows["areas.csv"]
    assert counts["petitions"] == rows["petitions.csv"] + rows["petitions_corrections.csv"]
    again = runner.invoke(app, ["load", "petitions", str(clean / "petitions.csv")])
    assert again.exit_code == 0 and "already loaded" in again.output


def test_messy_files_are_cleaned_or_rejected_as_promised(messy, tmp_path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'concord.db'}")
    upgrade(engine)
    dirt = json.loads((messy / "manifest.json").read_text(encoding="utf-8"))["messy"]
    for kind in ("areas", "adjacency", "population", "policies"):  # GB18030 and mixed dates: cleaned
        assert load_file(engine, kind, messy / f"{kind}.csv", hash_key=KEY, loaded_by="test").added > 0
    for kind, stem, key in (("petitions", "petitions", "petition_id"), ("mediation", "mediation", "case_id")):
        before = stored_counts(engine)
        with pytest.raises(BatchRejected) as caught:
            load_file(engine, kind, messy / f"{stem}.csv", hash_key=KEY, loaded_by="test")
        frame = pd.read_csv(messy / f"{stem}.csv", dtype=str, keep_default_na=False, encoding="gb18030")
        ids_at = lambda reason: {frame.loc[e.row - 2, key] for e in caught.value.errors if reason in e.reason}  # noqa: E731
        assert ids_at("duplicate") == set(dirt[stem]["duplicated_ids"])
        assert ids_at("unknown") == set(dirt[stem]["unknown_area_ids"])
        assert stored_counts(engine) == before  # nothing half-lands
