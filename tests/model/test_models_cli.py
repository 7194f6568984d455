"""``concord models promote`` enforces the gates; ``concord models card`` writes the card."""

from __future__ import annotations

import pandas as pd
from typer.testing import CliRunner

from api.cli import app
from models.backtest import GateResult
from models.jobs import train_and_register
from tests.utils.scored_city import FEATURES, synthetic_panel


def test_promote_refuses_a_version_that_failed_the_gates_and_card_is_written(cli_database, monkeypatch, tmp_path) -> None:
    engine = cli_database
    panel = synthetic_panel([f"A{i}" for i in range(12)])
    good = train_and_register(engine, panel=panel, feature_names=FEATURES, registry_dir=tmp_path / "registry", catalogue_hash="c")
    refusal = GateResult(passed=False, reasons=("horizon 1: mean predicted / observed escalations 1.30 outside 0.9-1.1",),
                         table=pd.DataFrame())
    monkeypatch.setattr("models.jobs.gates", lambda result: refusal)
    bad = train_and_register(engine, panel=panel, feature_names=FEATURES, registry_dir=tmp_path / "registry", catalogue_hash="c")
    runner = CliRunner()
    refused = runner.invoke(app, ["models", "promote", bad.version])
    assert refused.exit_code == 1 and "failed the promotion gates" in refused.output and "1.30" in refused.output
    assert runner.invoke(app, ["models", "promote", good.version]).exit_code == 0
    card = runner.invoke(app, ["models", "card", good.version])
    assert card.exit_code == 0
    text = (tmp_path / "reports" / f"model-card-{good.version}.html").read_text(encoding="utf-8")
    assert "Intended use" in text and "never individuals" in text and "Feedback loop" in text
