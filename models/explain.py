"""Per-score feature contributions, and reasons a risk officer can read.

Contributions (docs/adr/0008-model-layer.md): scikit-learn's histogram
gradient boosting has no SHAP values and ``shap`` does not read its trees
natively, so each tree is walked as in Saabas' decomposition
(``treeinterpreter``): the booster's raw score is its baseline plus, along
each row's path, the change in the node's mean value at every split, and
each change is credited to the split's feature. The decomposition is exact
— base + sum of contributions = raw score — costs one pass over the trees
per period, and needs no reference sample. Saabas credits features near the
root a little more than SHAP would; for reasons ("which features pushed
this area up") that bias is harmless.

The raw (log-odds) contributions are then mapped onto the calibrated
probability: each is scaled by (p - p_base) / (raw - raw_base), so the
reasons of a score add up to its probability minus the probability of the
typical training row (``tests/model/test_explain.py`` checks it).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingClassifier


def _node_means(nodes: np.ndarray) -> np.ndarray:
    """Sample-weighted mean leaf value below every node (leaves keep their own value)."""
    means = nodes["value"].astype(np.float64).copy()
    for i in range(len(nodes) - 1, -1, -1):  # children follow their parent in the array
        if not nodes["is_leaf"][i]:
            left, right = nodes["left"][i], nodes["right"][i]
            n_left, n_right = float(nodes["count"][left]), float(nodes["count"][right])
            means[i] = (means[left] * n_left + means[right] * n_right) / max(n_left + n_right, 1.0)
    return means


def raw_contributions(booster: HistGradientBoostingClassifier, X: np.ndarray) -> tuple[np.ndarray, float]:
    """([rows, features] contributions to the raw score, base raw score); rows' sums + base = raw score."""
    X = np.asarray(X, np.float64)
    contributions = np.zeros_like(X)
    base = float(np.ravel(booster._baseline_prediction)[0])
    rows = np.arange(len(X))
    for (predictor,) in booster._predictors:
        nodes = predictor.nodes
        means = _node_means(nodes)
        base += means[0]
        at = np.zeros(len(X), dtype=np.intp)
        active = ~nodes["is_leaf"][at].astype(bool)
        while active.any():
            r, node = rows[active], at[active]
            feature = nodes["feature_idx"][node]
            value = X[r, feature]
            go_left = np.where(np.isnan(value), nodes["missing_go_to_left"][node] == 1, value <= nodes["num_threshold"][node])
            child = np.where(go_left, nodes["left"][node], nodes["right"][node]).astype(np.intp)
            np.add.at(contributions, (r, feature), means[child] - means[node])
            at[active] = child
            active = ~nodes["is_leaf"][at].astype(bool)
    return contributions, base


def probability_contributions(model, X: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """(contributions in probability points, probabilities, base probability) for a
    ``CalibratedEscalationClassifier`` (or a bare HGB classifier)."""
    booster = getattr(model, "booster_", model)
    raw_parts, base_raw = raw_contributions(booster, X)
    raw = base_raw + raw_parts.sum(axis=1)
    p = model.predict_proba(X)[:, 1]
    base_p = float(_calibrate(model, np.array([base_raw]))[0])
    gap = raw - base_raw
    scale = np.divide(p - base_p, gap, out=np.zeros_like(gap), where=np.abs(gap) > 1e-12)
    return raw_parts * scale[:, None], p, base_p


def _calibrate(model, raw: np.ndarray) -> np.ndarray:
    score = 1 / (1 + np.exp(-raw))
    calibrator = getattr(model, "calibrator_", None)
    if calibrator is None:
        return score
    if getattr(model, "method_", "") == "isotonic":
        return calibrator.predict(score)
    return calibrator.predict_proba(raw[:, None])[:, 1]  # sigmoid on the logit of the score = raw


def display(value: float, *, is_count: bool, suppression_k: int) -> str:
    """A value as shown to a person: counts below k become "<k"."""
    if np.isnan(value):
        return "unknown"
    if is_count:
        return f"<{suppression_k}" if value < suppression_k else f"{value:,.0f}"
    if 0 <= value <= 1 and not float(value).is_integer():
        return f"{value:.0%}"
    return f"{value:,.2f}".rstrip("0").rstrip(".")


def reason_text(
    *, feature: str, value: float, typical: float, own_rate: float | None, points: float, describe: Mapping[str, str],
    is_count: bool, suppression_k: int,
) -> str:
    """One sentence: what the feature is, this area's value against the typical area, and what it adds."""
    what = describe.get(feature, feature.replace("_", " ")).rstrip(".")
    shown = display(value, is_count=is_count, suppression_k=suppression_k)
    typical_shown = display(typical, is_count=is_count, suppression_k=suppression_k)
    text = f"{what}: {shown} (typical area {typical_shown})"
    if own_rate is not None and own_rate > 0 and not np.isnan(value) and value >= suppression_k:
        text += f", {value / own_rate:.1f}× its own average of the last year"
    return f"{text}; {'raises' if points >= 0 else 'lowers'} the probability by {abs(points) * 100:.1f} points"


def is_count_feature(name: str) -> bool:
    """Features whose value is a number of records (those are suppressed below k)."""
    counted = "_n_" in name or name.endswith("_n") or "backlog" in name
    return (counted or name.startswith(("pol_households", "pol_in_force_households"))) and "rate" not in name and "share" not in name


def own_year_rate(frame: pd.DataFrame, feature: str) -> np.ndarray | None:
    """For a count over w periods, the area's mean over the last year scaled to w periods (if catalogued)."""
    for suffix, year in (("w", 52), ("m", 12)):
        if feature.endswith(suffix) and "_n_" in feature:
            stem, window = feature.rsplit("_n_", 1)
            try:
                w = int(window[:-1])
            except ValueError:
                return None
            yearly = f"{stem}_n_{year}{suffix}"
            if w < year and yearly in frame.columns:
                return frame[yearly].to_numpy(np.float64) * w / year
    return None
