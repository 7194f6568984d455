"""The backtest report and the model card render, self-contained, with their plots and tables."""

from __future__ import annotations

import base64
import re

import pytest
from threadpoolctl import threadpool_limits

from models.backtest import panels_by_horizon, run_backtest
from models.calibration import CalibratedEscalationClassifier
from models.card import render_model_card
from models.report import render_backtest_report, write_backtest_report
from tests.model.test_backtest import FEATURES, synthetic_city

IMAGE = re.compile(r"data:image/png;base64,([A-Za-z0-9+/=]+)")


@pytest.fixture(scope="module")
def result():
    city = synthetic_city(rows=5, cols=8, weeks=60, seed=1)
    panels = panels_by_horizon(city.panel, events=city.panel["events"], horizons=(1, 2), label_offset=0)
    with threadpool_limits(1):
        return run_backtest(
            panels, folds=2, stride=4, label_offset=0, horizons=(1, 2), feature_names=FEATURES,
            estimator=CalibratedEscalationClassifier(max_iter=40, learning_rate=0.1, min_samples_leaf=20),
            adjacency=city.adjacency, truth=city.truth, count_targets=("petitions_next",), importance_repeats=1,
        )


def test_report_embeds_every_plot_and_the_side_by_side_table(result, tmp_path) -> None:
    page = render_backtest_report(result, title="Backtest <test city>")
    images = IMAGE.findall(page)
    assert len(images) == 5  # reliability, precision/recall, PAI, over time, importance
    assert all(base64.b64decode(image).startswith(b"\x89PNG") for image in images)
    assert "Backtest &lt;test city&gt;" in page and "<test city>" not in page
    for text in ("average_precision_to_oracle", "pai_at_5_to_oracle", "hawkes", "kernel", "oracle",
                 "Promotion gates", "crps", "coverage", "petitions_1w"):
        assert text in page, text
    path = write_backtest_report(result, path=tmp_path / "backtest.html", title="t")
    assert path.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert not list(tmp_path.glob("*.tmp"))


def test_report_without_truth_or_extras_still_renders(result) -> None:
    bare = type(result)(
        metrics=result.metrics[result.metrics["scorer"] != "oracle"],
        predictions=result.predictions.drop(columns=["oracle"]),
        count_metrics=result.count_metrics.iloc[0:0], importance=result.importance.iloc[0:0],
        folds=result.folds, feature_names=result.feature_names,
    )
    page = render_backtest_report(bare, title="bare", horizon=2)
    assert len(IMAGE.findall(page)) == 4 and "_to_oracle" not in page and "Not computed" in page


def test_model_card_states_use_window_figures_calibration_limits_and_feedback(result) -> None:
    manifest = {"estimator": "CalibratedEscalationClassifier", "training_window": ["2023-01-02", "2024-02-19"],
                "rows": 4000, "positive_rate": 0.07, "library_versions": {"scikit-learn": "1.9.1"}}
    card = render_model_card(version="v1", manifest=manifest, metrics=result.metrics, predictions=result.predictions)
    for text in ("never individuals", "2023-01-02 to 2024-02-19", "Backtest against baselines", "predicted_to_observed",
                 "ece", "Known limits", "Flags change what gets recorded", "scikit-learn 1.9.1", "long_run"):
        assert text in card, text
    assert len(IMAGE.findall(card)) == 1
