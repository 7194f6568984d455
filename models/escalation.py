"""The escalation model and its count forecasts: the one object stored as a version's artifact.

The artifact carries its feature names so scoring can check that the panel
it is given has the columns the model was trained on, in the same order;
the label-history features (models/targets.py) are derived from the panel
by the artifact itself, with the lag it was trained at, so a scoring panel
needs only the catalogue's columns.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.utils.validation import check_is_fitted

from models.calibration import CalibratedEscalationClassifier
from models.counts import CountForecaster
from models.counts import poisson_interval
from models.targets import HISTORY, CountTarget, add_history, family_shares


@dataclass
class CountModel:
    target: CountTarget
    estimator: CountForecaster


@dataclass
class EscalationModel:
    """A fitted calibrated classifier with the feature list it expects, and its count models."""

    estimator: CalibratedEscalationClassifier
    feature_names: list[str]
    label: str = "escalation"
    training_window: tuple[str, str] = ("", "")
    extra: dict = field(default_factory=dict)
    history_lag: int | None = None  # None: no label-history features
    counts: list[CountModel] = field(default_factory=list)

    def prepare(self, panel: pd.DataFrame) -> pd.DataFrame:
        """The panel with the derived features the model reads (whole panel: history needs the past)."""
        if self.history_lag is None or all(name in panel.columns for name in HISTORY):
            return panel
        return add_history(panel, lag=self.history_lag)

    def matrix(self, frame: pd.DataFrame) -> np.ndarray:
        missing = [name for name in self.feature_names if name not in frame.columns]
        if missing:
            raise ValueError(f"panel lacks features the model was trained on: {', '.join(missing[:10])}")
        return frame[self.feature_names].to_numpy(dtype=np.float64)

    def predict_proba(self, frame: pd.DataFrame) -> np.ndarray:
        check_is_fitted(self.estimator)
        return self.estimator.predict_proba(self.matrix(frame))[:, 1]

    def expected_counts(self, frame: pd.DataFrame) -> list[dict]:
        """Per row: {target: {expected, lower, upper, window}} (empty dicts without count models)."""
        out: list[dict] = [{} for _ in range(len(frame))]
        if not self.counts:
            return out
        X = self.matrix(frame)
        for count in self.counts:
            mu, lower, upper = count.estimator.predict_interval(X)
            self._put(out, count.target.name, mu, lower, upper, count.target.window)
            source = count.target.column.split("_", 1)[0]
            for family, share in family_shares(frame, source=source).items():  # the total split by recent shares
                part = mu * share
                self._put(out, f"{count.target.name}:{family}", part, *poisson_interval(part), count.target.window)
        return out

    @staticmethod
    def _put(out: list[dict], name: str, mu, lower, upper, window: int) -> None:
        for row, (m, lo, hi) in enumerate(zip(mu, lower, upper, strict=True)):
            out[row][name] = {"expected": round(float(m), 3), "lower": round(float(lo), 3),
                              "upper": round(float(hi), 3), "window": window}


#: Escalations the calibration tail should hold where the panel has them.
CALIBRATION_POSITIVES = 150


def make_estimator(*, seed: int, positives: int | None = None, rows: int | None = None) -> CalibratedEscalationClassifier:
    """Boosting for a rare event whose warnings are read from the top (docs/adr/0008-model-layer.md).

    Shallow trees and a small learning rate keep the booster from fitting
    noise. The leaves stay small enough to resolve the top of the ranking,
    which is where average precision and PAI are earned: leaves of 2% of
    the rows with L2 20 averaged the top 1-5% of area-periods away, and even
    the simulator's own probability, given as a feature, came out at 0.80
    of the oracle's average precision (0.91 with leaves of 100 rows).
    Leaves hold a quarter of a percent of the training rows (20 to 200).
    The calibration tail is 15% of the rows, grown up to half of them so
    that it holds about ``CALIBRATION_POSITIVES`` escalations (``positives``:
    escalations in the training rows): a calibrator fitted on a dozen
    events is noise.
    """
    fraction = 0.15 if not positives else min(0.5, max(0.15, CALIBRATION_POSITIVES / positives))
    return CalibratedEscalationClassifier(
        max_iter=500, learning_rate=0.02, max_leaf_nodes=3,
        min_samples_leaf=200 if rows is None else int(min(200, max(20, rows // 400))), l2_regularization=1.0,
        calibration_fraction=round(fraction, 3), random_state=seed,
    )


def make_count_estimator(*, seed: int) -> CountForecaster:
    return CountForecaster(max_iter=100, learning_rate=0.05, max_leaf_nodes=7, min_samples_leaf=200, random_state=seed)
