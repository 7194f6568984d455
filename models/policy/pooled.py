"""From past decisions to a proposal: the uplift a decision of this type is expected to bring, per family.

The per-decision effects (effects.py) of the proposal's type are pooled by
a random-effects meta-regression (weights 1 / (s_p^2 + tau^2), tau^2 by
DerSimonian-Laird), with effect modifiers -- compensation shortfall,
no hearing, households affected -- only where the history supports them
(enough decisions, and both values of the modifier seen often enough).
A supported modifier is kept only if its bootstrap interval excludes zero
(fifteen noisy decisions cannot carry three slopes that do not matter).
The uncertainty is a bootstrap over the decisions themselves (resample the
analogues, refit, predict, add a new decision's own deviation tau), so it
reflects how many analogues there are and how much they disagree.

Few analogues make a bootstrap overconfident (resampling three decisions
cannot show what a fourth might do), so below ``min_analogues`` the
interval is a Student-t prediction interval with n - 1 degrees of freedom
and the heterogeneity of all past decisions; with none of the type, the
decisions of every other type stand in, with the spread between types
added. Every such step is named in ``warnings``. ADR 0010 has the details.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

#: Log uplifts are truncated to +-3 (a factor of 20 either way): a t with one degree of freedom has
#: tails heavy enough to forecast impossible counts, and no recorded decision came near that.
LOG_BOUND = 3.0
MODIFIERS = ("compensation_shortfall", "no_hearing", "log_households")
MODIFIER_TEXT = {
    "compensation_shortfall": "compensation below full value (1 - ratio)",
    "no_hearing": "no hearing held",
    "log_households": "households affected (log, relative to 500)",
}


@dataclass(frozen=True)
class PoolingParams:
    """How many analogues make evidence, and the bootstrap (settings ``policy_review``)."""

    min_analogues: int = 5
    min_for_modifiers: int = 12
    min_each_side: int = 4
    draws: int = 400
    coverage: float = 0.9
    no_evidence_range: tuple[float, float] = (0.0, 1.1)  # log uplift when no decision at all was ever recorded
    seed: int = 0


@dataclass
class Uplift:
    """Expected log uplift of one family for the proposal, its interval and what stands behind it."""

    family: str
    estimate: float | None
    lower: float
    upper: float
    draws: np.ndarray
    analogues: int
    evidence: str  # "type", "few", "other_types", "none"
    modifiers: dict[str, dict[str, float]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


def covariates(frame: pd.DataFrame) -> pd.DataFrame:
    """The modifiers of decisions (or proposals) with columns households_affected, compensation_ratio, hearing_held."""
    ratio = pd.to_numeric(frame["compensation_ratio"], errors="coerce").astype(float)
    households = pd.to_numeric(frame["households_affected"], errors="coerce").astype(float)
    hearing = frame["hearing_held"].astype("boolean")
    return pd.DataFrame({
        "compensation_shortfall": np.clip(1 - ratio.fillna(1.0), 0, None).to_numpy(float),
        "no_hearing": (~hearing.fillna(True)).astype(float).to_numpy(),
        "log_households": np.log(households.fillna(500).clip(lower=1) / 500).to_numpy(float),
    }, index=frame.index)


def supported_modifiers(x: pd.DataFrame, params: PoolingParams) -> list[str]:
    """Modifiers the history can estimate: enough decisions, and variation seen often enough."""
    if len(x) < params.min_for_modifiers:
        return []
    out = []
    for name in MODIFIERS:
        values = x[name].to_numpy()
        varied = (values != np.median(values)).sum() if name != "no_hearing" else min(values.sum(), len(values) - values.sum())
        if varied >= params.min_each_side and np.std(values) > 0:
            out.append(name)
    return out


def _fit(y: np.ndarray, s2: np.ndarray, X: np.ndarray) -> tuple[np.ndarray, float]:
    """Random-effects weighted least squares: (coefficients, tau^2 by DerSimonian-Laird)."""
    ridge = 1e-6 * np.eye(X.shape[1])
    w = 1 / s2
    xtwx = X.T @ (w[:, None] * X) + ridge
    beta = np.linalg.solve(xtwx, X.T @ (w * y))
    q = float((w * (y - X @ beta) ** 2).sum())
    c = float(w.sum() - np.trace(np.linalg.solve(xtwx, X.T @ ((w**2)[:, None] * X))))
    tau2 = max(0.0, (q - (len(y) - X.shape[1])) / c) if c > 0 else 0.0
    w2 = 1 / (s2 + tau2)
    beta = np.linalg.solve(X.T @ (w2[:, None] * X) + ridge, X.T @ (w2 * y))
    return beta, tau2


def _design(x: pd.DataFrame, names: list[str]) -> np.ndarray:
    return np.column_stack([np.ones(len(x)), *[x[n].to_numpy(float) for n in names]])


def _interval(draws: np.ndarray, coverage: float) -> tuple[float, float]:
    tail = (1 - coverage) / 2
    return float(np.quantile(draws, tail)), float(np.quantile(draws, 1 - tail))


def _variance(rows: pd.DataFrame, coverage: float) -> np.ndarray:
    z = stats.norm.ppf(0.5 + coverage / 2)
    return np.maximum(((rows["upper"] - rows["lower"]) / (2 * z)).to_numpy(float) ** 2, 1e-4)


def _t_uplift(*, family: str, mean: float, se2: float, tau2: float, df: int, n: int, evidence: str,
              params: PoolingParams, rng: np.random.Generator, warnings: list[str]) -> Uplift:
    scale = float(np.sqrt(se2 + tau2))
    draws = np.clip(mean + scale * rng.standard_t(max(df, 1), size=params.draws), -LOG_BOUND, LOG_BOUND)
    lower, upper = (float(np.clip(mean + scale * stats.t.ppf(q, max(df, 1)), -LOG_BOUND, LOG_BOUND))
                    for q in ((1 - params.coverage) / 2, (1 + params.coverage) / 2))
    return Uplift(family=family, estimate=mean, lower=lower, upper=upper, draws=draws, analogues=n,
                  evidence=evidence, warnings=warnings)


def pool_family(effects: pd.DataFrame, *, family: str, policy_type: str, proposal: pd.DataFrame,
                params: PoolingParams, rng: np.random.Generator) -> Uplift:
    """The uplift of ``family`` for a proposal (a one-row frame of modifiers' source columns)."""
    every = effects[effects["family"] == family]
    same = every[every["type"] == policy_type]
    n = int(same["policy_id"].nunique())
    if every.empty:
        lo, hi = params.no_evidence_range
        return Uplift(family=family, estimate=None, lower=lo, upper=hi, draws=rng.uniform(lo, hi, params.draws),
                      analogues=0, evidence="none",
                      warnings=[("no past decision of any type could be assessed from the records: the range shown "
                                "is the documented no-evidence range, not an estimate")])
    all_s2 = _variance(every, params.coverage)
    _, tau2_all = _fit(every["estimate"].to_numpy(float), all_s2, np.ones((len(every), 1)))
    if n == 0:
        by_type = [(_fit(g["estimate"].to_numpy(float), _variance(g, params.coverage), np.ones((len(g), 1)))[0][0], len(g))
                   for _, g in every.groupby("type")]
        means = np.array([m for m, _ in by_type])
        between = float(means.var(ddof=1)) if len(means) > 1 else tau2_all
        mean = float(np.average(means, weights=[k for _, k in by_type]))
        return _t_uplift(family=family, mean=mean, se2=float(1 / (1 / (all_s2 + tau2_all)).sum()),
                         tau2=tau2_all + between, df=max(len(means) - 1, 1), n=0, evidence="other_types",
                         params=params, rng=rng, warnings=[
                             (f"no past decision of type {policy_type!r} could be assessed: the uplift is borrowed from "
                             f"{every['policy_id'].nunique()} decisions of other types, with the spread between types "
                             "added; treat it as a weak prior, not evidence about this type")])
    y, s2 = same["estimate"].to_numpy(float), _variance(same, params.coverage)
    if n < params.min_analogues:
        beta, tau2 = _fit(y, s2, np.ones((n, 1)))
        se2 = float(1 / (1 / (s2 + tau2)).sum())
        return _t_uplift(family=family, mean=float(beta[0]), se2=se2, tau2=max(tau2, tau2_all), df=n - 1, n=n,
                         evidence="few", params=params, rng=rng, warnings=[
                             (f"only {n} past decision(s) of type {policy_type!r} could be assessed (fewer than "
                             f"{params.min_analogues}): the interval is a t-interval with {max(n - 1, 1)} degree(s) of "
                             "freedom and is deliberately wide")])
    x, x_new = covariates(same), covariates(proposal)
    names = supported_modifiers(x, params)
    if names:  # keep the modifiers whose bootstrap interval excludes zero: the history supports those
        _, coefs = _bootstrap(y, s2, _design(x, names), _design(x_new, names)[0], params, rng)
        names = [name for j, name in enumerate(names) if not _interval(coefs[:, j], params.coverage)[0] <= 0
                 <= _interval(coefs[:, j], params.coverage)[1]]
    X, x0 = _design(x, names), _design(x_new, names)[0]
    beta, _ = _fit(y, s2, X)
    draws, coefs = _bootstrap(y, s2, X, x0, params, rng)
    lower, upper = _interval(draws, params.coverage)
    modifiers = {name: {"coefficient": float(beta[1 + j]), **dict(zip(("lower", "upper"), _interval(coefs[:, j], params.coverage)))}
                 for j, name in enumerate(names)}
    return Uplift(family=family, estimate=float(x0 @ beta), lower=lower, upper=upper, draws=draws, analogues=n,
                  evidence="type", modifiers=modifiers)


def _bootstrap(y: np.ndarray, s2: np.ndarray, X: np.ndarray, x0: np.ndarray, params: PoolingParams,
               rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Resample the decisions, refit, predict at ``x0`` plus a new decision's own deviation; and the coefficients."""
    n = len(y)
    draws, coefs = np.empty(params.draws), np.empty((params.draws, X.shape[1] - 1))
    for b in range(params.draws):
        rows = rng.integers(0, n, size=n)
        beta_b, tau2_b = _fit(y[rows], s2[rows], X[rows])
        draws[b] = float(x0 @ beta_b) + rng.normal(0, np.sqrt(tau2_b))
        coefs[b] = beta_b[1:]
    return draws, coefs


def pool(effects: pd.DataFrame, *, families: tuple[str, ...], policy_type: str, proposal: pd.DataFrame,
         params: PoolingParams) -> dict[str, Uplift]:
    """The uplift of every family for the proposal (same seed, same answer)."""
    rng = np.random.default_rng(params.seed)
    return {f: pool_family(effects, family=f, policy_type=policy_type, proposal=proposal, params=params, rng=rng)
            for f in families}
