"""The escalation classifier and the small object that is stored as its artifact.

The artifact carries its feature names so scoring can check that the panel
it is given has the columns the model was trained on, in the same order.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.utils.validation import check_is_fitted


@dataclass
class EscalationModel:
    """A fitted classifier with the feature list it expects."""

    estimator: HistGradientBoostingClassifier
    feature_names: list[str]
    label: str = "escalation"
    training_window: tuple[str, str] = ("", "")
    extra: dict = field(default_factory=dict)

    def predict_proba(self, frame: pd.DataFrame) -> np.ndarray:
        missing = [name for name in self.feature_names if name not in frame.columns]
        if missing:
            raise ValueError(f"panel lacks features the model was trained on: {', '.join(missing[:10])}")
        check_is_fitted(self.estimator)
        matrix = frame[self.feature_names].to_numpy(dtype=np.float64)
        return self.estimator.predict_proba(matrix)[:, 1]


def make_estimator(*, seed: int) -> HistGradientBoostingClassifier:
    """Gradient boosting handles the NaNs of absent feature families natively."""
    return HistGradientBoostingClassifier(
        max_iter=200, learning_rate=0.05, max_leaf_nodes=15, min_samples_leaf=40,
        l2_regularization=1.0, early_stopping=False, random_state=seed,
    )
