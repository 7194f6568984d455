"""Count forecasts: expected petitions and mediation cases per area-period, with a 90% interval.

The mean comes from ``HistGradientBoostingRegressor(loss="poisson")``: counts
are non-negative and their variance grows with the mean, which the Poisson
deviance respects and squared error does not. The interval comes, by
default, from two quantile-loss boosters (5% and 95%): a Poisson interval
around the mean would assume variance = mean, and dispute counts are
over-dispersed (self-excitation, collective events), so Poisson intervals
under-cover. ``interval="poisson"`` keeps the cheaper Poisson quantiles of
the mean for small panels and for the baselines. Bounds are clipped so that
0 <= lower <= mean <= upper: separately fitted quantile models can cross.
Whatever the interval, the CRPS of a forecast is scored as Poisson(mean)
(models/metrics.py).
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd
from scipy import stats
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.utils.validation import check_is_fitted, validate_data

from models.matrix import fill_empty_columns


def poisson_interval(mu: np.ndarray, *, coverage: float = 0.9) -> tuple[np.ndarray, np.ndarray]:
    """Central Poisson(mu) interval with at least ``coverage`` probability."""
    tail = (1 - coverage) / 2
    mu = np.maximum(np.asarray(mu, float), 1e-12)
    return stats.poisson.ppf(tail, mu), stats.poisson.ppf(1 - tail, mu)


class CountForecaster(RegressorMixin, BaseEstimator):
    """Poisson-loss boosting for the mean; quantile-loss boosting (or Poisson quantiles) for the interval."""

    def __init__(
        self, *, interval: Literal["quantile", "poisson"] = "quantile", coverage: float = 0.9,
        max_iter: int = 200, learning_rate: float = 0.05, max_leaf_nodes: int = 15, min_samples_leaf: int = 40,
        random_state: int | None = 0,
    ) -> None:
        self.interval = interval
        self.coverage = coverage
        self.max_iter = max_iter
        self.learning_rate = learning_rate
        self.max_leaf_nodes = max_leaf_nodes
        self.min_samples_leaf = min_samples_leaf
        self.random_state = random_state

    def _booster(self, n_rows: int, **loss: object) -> HistGradientBoostingRegressor:
        return HistGradientBoostingRegressor(
            max_iter=self.max_iter, learning_rate=self.learning_rate, max_leaf_nodes=self.max_leaf_nodes,
            min_samples_leaf=max(1, min(self.min_samples_leaf, n_rows // 4)), early_stopping=False,
            random_state=self.random_state, **loss,
        )

    def fit(self, X, y):  # noqa: N803 - scikit-learn's names
        X, y = validate_data(self, X, y, ensure_all_finite="allow-nan", y_numeric=True)
        if np.any(y < 0):
            raise ValueError("counts must be non-negative")
        if self.interval not in ("quantile", "poisson"):
            raise ValueError(f"interval must be 'quantile' or 'poisson', not {self.interval!r}")
        X = fill_empty_columns(X)
        self.mean_ = self._booster(len(y), loss="poisson").fit(X, y)
        tail = (1 - self.coverage) / 2
        self.bounds_ = (
            [self._booster(len(y), loss="quantile", quantile=q).fit(X, y) for q in (tail, 1 - tail)]
            if self.interval == "quantile" else []
        )
        return self

    def predict(self, X) -> np.ndarray:  # noqa: N803
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, ensure_all_finite="allow-nan")
        return self.mean_.predict(X)

    def predict_interval(self, X) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # noqa: N803
        """(mean, lower, upper) for every row."""
        mu = self.predict(X)
        if self.interval == "poisson":
            lower, upper = poisson_interval(mu, coverage=self.coverage)
        else:
            X = validate_data(self, X, reset=False, ensure_all_finite="allow-nan")
            lower, upper = (model.predict(X) for model in self.bounds_)
        lower = np.clip(np.minimum(lower, mu), 0, None)
        return mu, lower, np.maximum(upper, mu)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.target_tags.positive_only = True
        return tags


def forecast_counts(model: CountForecaster, *, frame: pd.DataFrame, feature_names: list[str]) -> pd.DataFrame:
    """One row per (area_id, period_start) of ``frame``: expected count and its interval."""
    mu, lower, upper = model.predict_interval(frame[feature_names].to_numpy(np.float64))
    return pd.DataFrame({
        "area_id": frame["area_id"].to_numpy(), "period_start": frame["period_start"].to_numpy(),
        "expected": mu, "lower": lower, "upper": upper,
    })
