"""The sceptic's baselines: what a model must beat before anyone acts on it.

Each baseline returns one score per panel row (area_id, period_start) using
only what was known when that period started. The panel's target (the
``label``, or a count) at row s covers outcome periods s + label_offset ..
s + label_offset + horizon - 1, so it becomes known ``lag = label_offset +
horizon`` periods after s (``known_lag``); a baseline at period t reads
targets of rows s <= t - lag and nothing else. Features are not used at all,
so changing records at or after t can never move a score at t
(tests/model/test_baselines.py checks both properties).

Scores are rates in [0, 1] for a 0/1 label (a mean count for a count
target), so the Brier score and calibration of a baseline mean something.
Where an area has no known history yet the baseline falls back on the
mean of every target known at that time (0 when nothing is known).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import optimize, sparse


def known_lag(*, horizon: int, label_offset: int) -> int:
    """Periods after a row's start before its target is fully observed."""
    return horizon + label_offset


def period_positions(starts: pd.Series | pd.DatetimeIndex) -> np.ndarray:
    """Integer period numbers (0 = earliest); weekly when starts are 7-day multiples apart, else monthly."""
    days = pd.DatetimeIndex(starts)
    first = days.min()
    offsets = (days - first).days.to_numpy()
    if np.all(offsets % 7 == 0):
        return offsets // 7
    if np.all(days.day == 1):
        return ((days.year - first.year) * 12 + days.month - first.month).to_numpy()
    raise ValueError("period_start must be weekly (7-day spaced) or month starts")


@dataclass(frozen=True)
class Grid:
    """A target laid out as [area, period] so history can be read by position."""

    values: np.ndarray  # float [areas, periods], NaN where unknown or absent
    area: np.ndarray  # row -> area position
    period: np.ndarray  # row -> period position
    areas: pd.Index

    def rows(self, matrix: np.ndarray) -> np.ndarray:
        return matrix[self.area, self.period]


def to_grid(panel: pd.DataFrame, *, target: str) -> Grid:
    area_codes, areas = pd.factorize(panel["area_id"].astype(str), sort=True)
    period = period_positions(panel["period_start"])
    values = np.full((len(areas), int(period.max()) + 1), np.nan)
    values[area_codes, period] = panel[target].to_numpy(float)
    return Grid(values=values, area=area_codes, period=period, areas=pd.Index(areas))


def _shift(matrix: np.ndarray, lag: int) -> np.ndarray:
    """Column t of the result holds column t - lag of ``matrix`` (NaN before the start)."""
    out = np.full_like(matrix, np.nan)
    if lag < matrix.shape[1]:
        out[:, lag:] = matrix[:, : matrix.shape[1] - lag]
    return out


def _known_sums(grid: Grid, lag: int) -> tuple[np.ndarray, np.ndarray]:
    """Cumulative sum and count of each area's targets known at every period."""
    shifted = _shift(grid.values, lag)
    return np.nancumsum(shifted, axis=1), np.cumsum(~np.isnan(shifted), axis=1).astype(float)


def _fallback(grid: Grid, lag: int) -> np.ndarray:
    """Mean of every target known at each period, across areas, shape [periods]."""
    total, count = _known_sums(grid, lag)
    mean = total.sum(axis=0) / np.maximum(count.sum(axis=0), 1)
    return np.where(count.sum(axis=0) > 0, mean, 0.0)


def last_known(panel: pd.DataFrame, *, target: str, lag: int) -> np.ndarray:
    """The area's most recent known target (last period's escalation or count)."""
    grid = to_grid(panel, target=target)
    last = pd.DataFrame(_shift(grid.values, lag).T).ffill().to_numpy().T
    filled = np.where(np.isnan(last), _fallback(grid, lag)[None, :], last)
    return grid.rows(filled)


def moving_average(panel: pd.DataFrame, *, target: str, lag: int, window: int = 4) -> np.ndarray:
    """Mean of the area's last ``window`` known targets."""
    grid = to_grid(panel, target=target)
    total, count = _known_sums(grid, lag)
    w_total = total - np.nan_to_num(_shift(total, window))
    w_count = count - np.nan_to_num(_shift(count.astype(float), window))
    mean = np.where(w_count > 0, w_total / np.maximum(w_count, 1), _fallback(grid, lag)[None, :])
    return grid.rows(mean)


def long_run_rate(panel: pd.DataFrame, *, target: str, lag: int, prior: float = 5.0) -> np.ndarray:
    """The area's mean of all its known targets, shrunk towards the overall mean by ``prior`` pseudo-periods."""
    grid = to_grid(panel, target=target)
    total, count = _known_sums(grid, lag)
    overall = _fallback(grid, lag)[None, :]
    return grid.rows((total + prior * overall) / (count + prior))


def _decayed(grid: Grid, lag: int, decay: float, *, normalise: bool) -> np.ndarray:
    """Sum (or weighted mean) of known targets with weight exp(-decay x age)."""
    shifted = np.nan_to_num(_shift(grid.values, lag))
    seen = (~np.isnan(_shift(grid.values, lag))).astype(float)
    factor = np.exp(-decay)
    acc, weight = np.zeros_like(shifted), np.zeros_like(shifted)
    for t in range(shifted.shape[1]):
        prev_acc = acc[:, t - 1] if t else 0.0
        prev_w = weight[:, t - 1] if t else 0.0
        acc[:, t] = factor * prev_acc + shifted[:, t]
        weight[:, t] = factor * prev_w + seen[:, t]
    if not normalise:
        return acc
    return np.where(weight > 0, acc / np.maximum(weight, 1e-12), _fallback(grid, lag)[None, :])


def kernel_hotspot(
    panel: pd.DataFrame, *, target: str, lag: int, adjacency: pd.DataFrame, half_life: float = 4.0,
    neighbour_weight: float = 0.5,
) -> np.ndarray:
    """Exponentially weighted own history blended with the neighbours' (columns area_id, neighbor_id).

    A discrete space-time kernel: time weight halves every ``half_life``
    periods; neighbours share ``neighbour_weight`` of the score equally.
    Areas without neighbours keep their own history.
    """
    grid = to_grid(panel, target=target)
    own = _decayed(grid, lag, np.log(2) / half_life, normalise=True)
    position = pd.Series(np.arange(len(grid.areas)), index=grid.areas)
    edges = adjacency.assign(a=adjacency["area_id"].astype(str).map(position),
                             b=adjacency["neighbor_id"].astype(str).map(position)).dropna(subset=["a", "b"])
    n = len(grid.areas)
    matrix = sparse.csr_matrix((np.ones(len(edges)), (edges["a"].astype(int), edges["b"].astype(int))), shape=(n, n))
    degree = np.asarray(matrix.sum(axis=1)).ravel()
    neighbours = sparse.diags(1 / np.maximum(degree, 1)) @ matrix @ own
    w = np.where(degree > 0, neighbour_weight, 0.0)[:, None]
    return grid.rows((1 - w) * own + w * neighbours)


@dataclass(frozen=True)
class HawkesFit:
    """Background rate, excitation and decay of a discrete self-exciting intensity."""

    mu: float
    alpha: float
    decay: float


def _hawkes_probability(excitation: np.ndarray, fit: HawkesFit) -> np.ndarray:
    return -np.expm1(-(fit.mu + fit.alpha * excitation))


def fit_hawkes(
    panel: pd.DataFrame, *, target: str, lag: int, train: np.ndarray,
    decays: tuple[float, ...] = (0.05, 0.1, 0.2, 0.35, 0.7, 1.4),
) -> HawkesFit:
    """Fit intensity mu + alpha x sum exp(-decay x age) y on the ``train`` rows (boolean mask).

    P(event) = 1 - exp(-intensity); mu and alpha by maximum Bernoulli
    likelihood, the decay by the best likelihood over a small grid.
    """
    grid = to_grid(panel, target=target)
    y = panel[target].to_numpy(float)
    keep = np.asarray(train, bool) & ~np.isnan(y)
    y = np.clip(y[keep], 0, 1)
    best: tuple[float, HawkesFit] | None = None
    for decay in decays:
        e = grid.rows(_decayed(grid, lag, decay, normalise=False))[keep]

        def nll(theta: np.ndarray, e: np.ndarray = e) -> float:
            q = np.clip(-np.expm1(-(theta[0] + theta[1] * e)), 1e-9, 1 - 1e-9)
            return float(-np.sum(y * np.log(q) + (1 - y) * np.log1p(-q)))

        start = np.array([max(-np.log1p(-min(y.mean(), 0.99)), 1e-3), 0.01])
        result = optimize.minimize(nll, start, method="L-BFGS-B", bounds=[(1e-9, None), (0.0, None)])
        candidate = HawkesFit(mu=float(result.x[0]), alpha=float(result.x[1]), decay=decay)
        if best is None or result.fun < best[0]:
            best = (float(result.fun), candidate)
    assert best is not None
    return best[1]


def hawkes(panel: pd.DataFrame, *, target: str, lag: int, fit: HawkesFit) -> np.ndarray:
    """The fitted self-exciting probability for every row."""
    grid = to_grid(panel, target=target)
    return grid.rows(_hawkes_probability(_decayed(grid, lag, fit.decay, normalise=False), fit))


def oracle(panel: pd.DataFrame, *, truth: pd.DataFrame, horizon: int, label_offset: int) -> np.ndarray:
    """The simulator's true probability of the label's event: 1 - prod(1 - p) over its outcome periods.

    ``truth`` has area_id, period_start, p_escalation per period. Rows whose
    outcome periods are missing from ``truth`` get NaN.
    """
    both = pd.concat([panel["period_start"], truth["period_start"]], ignore_index=True)
    positions = period_positions(both)
    row_period, truth_period = positions[: len(panel)], positions[len(panel):]
    area_codes, areas = pd.factorize(pd.concat([panel["area_id"], truth["area_id"]]).astype(str))
    survive = np.full((len(areas), int(positions.max()) + horizon + label_offset + 1), np.nan)
    survive[area_codes[len(panel):], truth_period] = np.log1p(-truth["p_escalation"].to_numpy(float))
    area = area_codes[: len(panel)]
    total = np.zeros(len(panel))
    for j in range(horizon):
        total = total + survive[area, row_period + label_offset + j]
    return -np.expm1(total)
