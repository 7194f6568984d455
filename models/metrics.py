"""Scores for escalation probabilities and count forecasts, as pure functions.

Every function takes numpy arrays (or, for the per-period top-k family, the
period of each row) and returns plain floats, so the backtest, the report
and a notebook compute the same numbers. Rows whose label is NaN (outcome
not yet observed) must be dropped by the caller; ``classification_metrics``
does it for you.

Conventions a reader of a report must know:

- **log score** is the mean negative log-likelihood (lower is better), with
  probabilities clipped to [1e-6, 1 - 1e-6] so one confident miss cannot
  make it infinite.
- **expected calibration error** uses *equal-mass* bins: rows sorted by
  predicted probability are cut into ``bins`` groups of (nearly) equal
  size, and ECE = sum over bins of (bin share) x |mean outcome - mean
  prediction|. Equal-width bins would leave the upper bins nearly empty for
  a rare event; equal mass gives every bin the same statistical weight.
- **top-k per period**: within each period the areas are ranked by score and
  the top ceil(k x areas in the period) are flagged — an officer flags a
  share of *this week's* areas, never of the whole history. Ties at the
  boundary share the remaining slots equally (the expectation under random
  tie-breaking), so a coarse baseline is neither flattered nor punished by
  row order. Counts are then pooled over periods: recall = caught /
  escalations, precision = caught / flagged, PAI = recall / (flagged /
  rows), PEI* = caught / sum over periods of min(flagged, escalations) —
  the most any selection of the same sizes could have caught.
- **CRPS of a Poisson forecast** is computed exactly with the closed form of
  Wei & Held (2014); ``poisson_crps_by_sum`` is the direct sum over the
  support, kept for tests and as the definition.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import special, stats
from sklearn.metrics import average_precision_score, roc_auc_score

TOP_K: tuple[float, ...] = (0.01, 0.05, 0.10)
EPS = 1e-6


def _both_classes(y: np.ndarray) -> bool:
    return bool(y.size) and 0 < y.sum() < y.size


def average_precision(*, y: np.ndarray, p: np.ndarray) -> float:
    """Area under the step-wise precision-recall curve (no interpolation); NaN with one class."""
    return float(average_precision_score(y, p)) if _both_classes(y) else float("nan")


def roc_auc(*, y: np.ndarray, p: np.ndarray) -> float:
    return float(roc_auc_score(y, p)) if _both_classes(y) else float("nan")


def brier(*, y: np.ndarray, p: np.ndarray) -> float:
    return float(np.mean((np.asarray(p, float) - y) ** 2))


def log_score(*, y: np.ndarray, p: np.ndarray) -> float:
    """Mean negative log-likelihood; lower is better (see the module docstring for clipping)."""
    q = np.clip(np.asarray(p, float), EPS, 1 - EPS)
    return float(-np.mean(y * np.log(q) + (1 - y) * np.log1p(-q)))


def expected_calibration_error(*, y: np.ndarray, p: np.ndarray, bins: int = 10) -> float:
    """ECE over equal-mass bins of the predicted probability."""
    order = np.argsort(np.asarray(p, float), kind="stable")
    total = 0.0
    for chunk in np.array_split(order, min(bins, len(order))):
        total += len(chunk) * abs(float(np.mean(y[chunk])) - float(np.mean(p[chunk])))
    return total / len(order)


def reliability_table(*, y: np.ndarray, p: np.ndarray, bins: int = 10) -> pd.DataFrame:
    """Mean prediction and observed rate per equal-mass bin: the reliability diagram's points."""
    order = np.argsort(np.asarray(p, float), kind="stable")
    chunks = np.array_split(order, min(bins, len(order)))
    return pd.DataFrame({
        "predicted": [float(np.mean(p[c])) for c in chunks],
        "observed": [float(np.mean(y[c])) for c in chunks],
        "rows": [len(c) for c in chunks],
    })


def flag_weights(*, period: np.ndarray, score: np.ndarray, k: float) -> np.ndarray:
    """Each row's share of a flag when the top ceil(k x n) areas of its period are flagged.

    1 for rows clearly inside, 0 outside, and slots/ties for a tied group
    straddling the boundary.
    """
    frame = pd.DataFrame({"period": period, "score": np.asarray(score, float)})
    groups = frame.groupby("period", sort=False, observed=True)["score"]
    n = groups.transform("size").to_numpy(float)
    slots = np.ceil(k * n - 1e-9)
    above = groups.rank(method="min", ascending=False).to_numpy() - 1
    tied = frame.groupby(["period", "score"], sort=False, observed=True)["score"].transform("size").to_numpy(float)
    return np.clip((slots - above) / tied, 0.0, 1.0)


def top_k_metrics(*, y: np.ndarray, score: np.ndarray, period: np.ndarray, k: float) -> dict[str, float]:
    """Recall, precision, PAI and PEI* when the top k of areas are flagged in every period."""
    w = flag_weights(period=period, score=score, k=k)
    caught, positives, flagged = float(np.sum(w * y)), float(np.sum(y)), float(np.sum(w))
    per_period = pd.DataFrame({"period": period, "y": y, "w": w}).groupby("period", observed=True).sum()
    best = float(np.minimum(per_period["w"].round(9), per_period["y"]).sum())
    recall = caught / positives if positives else float("nan")
    return {
        "recall": recall,
        "precision": caught / flagged if flagged else float("nan"),
        "pai": recall / (flagged / len(y)) if flagged and positives else float("nan"),
        "pei": caught / best if best else float("nan"),
    }


def classification_metrics(
    *, y: np.ndarray, p: np.ndarray, period: np.ndarray, top_k: Sequence[float] = TOP_K, bins: int = 10,
) -> dict[str, float]:
    """Every escalation metric of the issue for one set of rows (NaN labels dropped)."""
    y, p, period = np.asarray(y, float), np.asarray(p, float), np.asarray(period)
    keep = ~np.isnan(y)
    y, p, period = y[keep], p[keep], period[keep]
    if not y.size:
        return {"rows": 0.0, "positives": 0.0}
    out = {
        "rows": float(y.size),
        "positives": float(y.sum()),
        "mean_predicted": float(p.mean()),
        "mean_observed": float(y.mean()),
        "average_precision": average_precision(y=y, p=p),
        "roc_auc": roc_auc(y=y, p=p),
        "brier": brier(y=y, p=p),
        "log_score": log_score(y=y, p=p),
        "ece": expected_calibration_error(y=y, p=p, bins=bins),
    }
    for k in top_k:
        tag = f"{round(k * 100):g}"
        out |= {f"{name}_at_{tag}": value for name, value in top_k_metrics(y=y, score=p, period=period, k=k).items()}
    return out


def poisson_deviance(*, y: np.ndarray, mu: np.ndarray) -> float:
    """Mean Poisson deviance 2 (y log(y/mu) - (y - mu)); 0 for a perfect forecast."""
    y, mu = np.asarray(y, float), np.maximum(np.asarray(mu, float), 1e-12)
    return float(np.mean(2 * (special.xlogy(y, y) - special.xlogy(y, mu) - (y - mu))))


def poisson_crps(*, y: np.ndarray, mu: np.ndarray) -> np.ndarray:
    """Per-row CRPS of Poisson(mu) at y, closed form (Wei & Held 2014)."""
    y, mu = np.asarray(y, float), np.maximum(np.asarray(mu, float), 1e-12)
    cdf = stats.poisson.cdf(y, mu)
    pmf = stats.poisson.pmf(np.floor(y), mu)
    bessel = special.i0e(2 * mu) + special.i1e(2 * mu)  # exp(-2mu) (I0(2mu) + I1(2mu))
    return (y - mu) * (2 * cdf - 1) + mu * (2 * pmf - bessel)


def poisson_crps_by_sum(*, y: np.ndarray, mu: np.ndarray, tail: float = 1e-12) -> np.ndarray:
    """The definition: sum over k >= 0 of (F(k) - 1{y <= k})^2, truncated where F > 1 - tail."""
    y, mu = np.asarray(y, float), np.asarray(mu, float)
    top = int(max(np.max(y), np.max(stats.poisson.isf(tail, mu)))) + 1
    k = np.arange(top + 1)[None, :]
    cdf = stats.poisson.cdf(k, mu[:, None])
    return np.sum((cdf - (y[:, None] <= k)) ** 2, axis=1)


def interval_coverage(*, y: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> float:
    """Share of observations inside the closed interval [lower, upper]."""
    y = np.asarray(y, float)
    return float(np.mean((y >= lower) & (y <= upper)))


def count_metrics(*, y: np.ndarray, mu: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> dict[str, float]:
    """Every count metric of the issue for one set of rows (NaN targets dropped)."""
    y, mu, lower, upper = (np.asarray(a, float) for a in (y, mu, lower, upper))
    keep = ~np.isnan(y)
    y, mu, lower, upper = y[keep], mu[keep], lower[keep], upper[keep]
    return {
        "rows": float(y.size),
        "mean_predicted": float(mu.mean()) if y.size else float("nan"),
        "mean_observed": float(y.mean()) if y.size else float("nan"),
        "poisson_deviance": poisson_deviance(y=y, mu=mu) if y.size else float("nan"),
        "crps": float(poisson_crps(y=y, mu=mu).mean()) if y.size else float("nan"),
        "coverage": interval_coverage(y=y, lower=lower, upper=upper) if y.size else float("nan"),
        "interval_width": float(np.mean(upper - lower)) if y.size else float("nan"),
    }
