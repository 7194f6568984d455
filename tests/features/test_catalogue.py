"""The catalogue is the single source of the feature list: panels, CLI and docs follow it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from features.catalogue import catalogue
from features.pipeline import PanelSpec, build_panel, feature_columns
from features.pipeline.assemble import HANDLERS

DOCS = Path(__file__).resolve().parents[2] / "docs" / "features.md"
REQUIRED_FAMILIES = {"counts", "rates", "escalation", "trend", "resolution", "shares", "population", "spatial",
                     "seasonality", "policy", "origin"}


@pytest.mark.parametrize("period", ["week", "month"])
def test_catalogue_is_well_formed(period: str) -> None:
    specs = catalogue(period)
    names = [s.name for s in specs]
    assert len(names) == len(set(names))
    assert {s.family for s in specs} == REQUIRED_FAMILIES
    for spec in specs:
        assert re.fullmatch(r"[a-z0-9_]+", spec.name), spec.name
        assert spec.definition.endswith(".") and spec.definition[0].isupper(), spec.name
        assert all(re.fullmatch(r"[a-z_]+\.[a-z_]+", read) for read in spec.reads), spec.reads
        assert spec.key and spec.key[0] in HANDLERS, spec.name


def test_week_and_month_catalogues_share_their_order() -> None:
    week = [s.key[0] for s in catalogue("week")]
    month = [s.key[0] for s in catalogue("month")]
    assert week == month
    assert any(s.name.endswith("_3m") for s in catalogue("month"))


def test_panel_columns_are_the_catalogue_in_order(full_engine) -> None:
    panel = build_panel(full_engine, spec=PanelSpec())
    columns = feature_columns(panel)
    names = [s.name for s in catalogue("week")]
    assert set(panel.columns) - {"area_id", "period_start", "label", "label_observed_at"} == set(columns)
    assert columns == [n for n in names if n in set(columns)]
    assert set(columns) == set(names), "with every kind of record loaded, every catalogue feature is built"


def test_features_list_prints_every_feature() -> None:
    from api.cli import app

    result = CliRunner().invoke(app, ["features", "list"], env={"COLUMNS": "400"})
    assert result.exit_code == 0, result.output
    for spec in catalogue("week"):
        assert spec.name in result.output
    month = CliRunner().invoke(app, ["features", "list", "--period", "month", "--family", "counts"], env={"COLUMNS": "400"})
    assert "pet_total_n_3m" in month.output and "pol_n_12m" not in month.output


def test_docs_are_generated_from_the_catalogue() -> None:
    from features.pipeline.docs import catalogue_markdown

    text = DOCS.read_text(encoding="utf-8")
    assert catalogue_markdown("week") in text, "docs/features.md is stale: run python -m features.pipeline.docs"
