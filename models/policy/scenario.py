"""Baseline and scenario forecasts per affected area and family over the decision's horizon.

The baseline is what the records say an area would see without the
decision: each area's rate of each family over the last ``recent_weeks``,
shrunk towards the city's by a gamma-Poisson (empirical Bayes) model so a
quiet small area is not forecast at zero, scaled by the family's calendar
month profile (land disputes follow the construction season) and given
the extra between-period variation dispute counts show (tension comes and
goes). The scenario multiplies the same draws by the pooled uplift's
draws (pooled.py), so both intervals share the baseline's uncertainty and
the difference between them is the decision's.

Totals here are forecasts (expected values), not counts of records.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from models.policy.history import FAMILIES, History
from models.policy.pooled import Uplift


@dataclass(frozen=True)
class ScenarioParams:
    recent_weeks: int = 52
    draws: int = 2000
    coverage: float = 0.9
    seed: int = 0


def _prior(counts: np.ndarray, weeks: int) -> tuple[np.ndarray, np.ndarray]:
    """Gamma(shape, rate) of weekly rates per family across areas, by the method of moments."""
    rates = counts / max(weeks, 1)
    mean = rates.mean(axis=0)
    between = np.maximum(rates.var(axis=0) - mean / max(weeks, 1), 1e-9)
    mean = np.maximum(mean, 1e-6)
    return mean**2 / between, mean / between


def month_profile(history: History) -> np.ndarray:
    """(12, F) ratio of each calendar month's weekly counts to the family's average (1 without a full year)."""
    if len(history.weeks) < 52:
        return np.ones((12, len(FAMILIES)))
    city = history.counts.sum(axis=0)  # (W, F)
    months = history.weeks.month.to_numpy() - 1
    per_month = np.array([city[months == m].mean(axis=0) if (months == m).any() else city.mean(axis=0) for m in range(12)])
    overall = np.maximum(city.mean(axis=0), 1e-9)
    return np.where(overall > 1e-6, per_month / overall, 1.0)


def overdispersion(history: History, *, block: int) -> np.ndarray:
    """Per family: extra relative variance of block counts beyond Poisson, pooled over areas (>= 0)."""
    w = (len(history.weeks) // max(block, 1)) * block
    if w < 2 * block:
        return np.zeros(len(FAMILIES))
    blocks = history.counts[:, :w].reshape(history.counts.shape[0], w // block, block, -1).sum(axis=2)  # (A, B, F)
    mean, var = blocks.mean(axis=1), blocks.var(axis=1, ddof=1)
    return np.maximum((var - mean).sum(axis=0) / np.maximum((mean**2).sum(axis=0), 1e-9), 0.0)


def horizon_weights(history: History, *, start: pd.Timestamp, weeks: int) -> np.ndarray:
    """(F,) sum over the horizon's weeks of the month profile: expected weeks of an average week's rate."""
    profile = month_profile(history)
    days = pd.date_range(start, periods=max(weeks, 1), freq="7D")
    return profile[days.month.to_numpy() - 1].sum(axis=0)


def forecast(history: History, *, positions: np.ndarray, start: pd.Timestamp, weeks: int,
             uplifts: dict[str, Uplift], params: ScenarioParams) -> pd.DataFrame:
    """One row per (affected area, family of ``uplifts``): baseline and scenario expected disputes with intervals."""
    rng = np.random.default_rng(params.seed)
    recent = min(params.recent_weeks, len(history.weeks))
    counts = history.counts[:, len(history.weeks) - recent:].sum(axis=1).astype(float)  # (A, F)
    shape, rate = _prior(counts, recent)
    scale = horizon_weights(history, start=start, weeks=weeks)
    phi = overdispersion(history, block=max(weeks, 4))
    tail = (1 - params.coverage) / 2
    rows = []
    for family, uplift in uplifts.items():
        f = FAMILIES.index(family)
        theta = rng.choice(uplift.draws, size=params.draws)
        # the point forecast uses the point uplift: a mean over heavy-tailed draws would let the tail speak
        central = uplift.estimate if uplift.estimate is not None else float(np.median(uplift.draws))
        for position in positions:
            lam = rng.gamma(shape[f] + counts[position, f], 1 / (rate[f] + recent), size=params.draws)
            g = rng.gamma(1 / phi[f], phi[f], size=params.draws) if phi[f] > 1e-6 else np.ones(params.draws)
            mu = lam * scale[f] * g
            base = rng.poisson(mu)
            scen = rng.poisson(mu * np.exp(theta))
            rows.append({
                "area_id": history.area_ids[position], "family": family,
                "baseline": float(mu.mean()), "baseline_lower": float(np.quantile(base, tail)),
                "baseline_upper": float(np.quantile(base, 1 - tail)),
                "scenario": float(mu.mean() * np.exp(central)), "scenario_lower": float(np.quantile(scen, tail)),
                "scenario_upper": float(np.quantile(scen, 1 - tail)),
            })
    frame = pd.DataFrame(rows)
    frame["extra"] = frame["scenario"] - frame["baseline"]
    return frame
