"""What each past decision did to disputes: a matched difference-in-differences per decision and family.

For a decision announced in week ``a`` and effective in week ``e`` the
exposed areas' disputes of each family in the *post* window (``a`` to
``e + weeks_after_effective``: the stretch every decision still acts in)
are compared with their *pre* window (the ``pre_weeks`` before ``a``), and
that change with the same change in matched unexposed areas:

    theta_f = log((E_post + 1/2) / (E_pre + 1/2)) - log((C_post + 1/2) / (C_pre + 1/2))

(the halves keep a zero count finite and remove most of the small-count
bias of a log). Controls are, for each exposed area, the
``controls_per_area`` nearest clean areas on pre-period activity and
population; *clean* means not touched by any decision that may act during
the windows (from its announcement to ``active_weeks_after_effective``
after it takes effect) and not adjacent to an exposed area (spill-over).
Exposed areas that another decision also touches are left out.

The interval is a placebo bootstrap: the same estimator is applied to
``placebos`` clusters of clean areas (same size, grown over the adjacency
like a real decision's areas) over the same weeks, where the true effect is
zero; the spread of those placebo estimates is the estimator's error at
this time, for areas this size. For each family the placebos nearest the
exposed areas in pre-period count are kept (``placebo_share``), because
the error of a log ratio depends mostly on how many disputes it rests on.
See docs/adr/0010-policy-review-method.md for the assumptions.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from models.policy.history import FAMILIES, History


@dataclass(frozen=True)
class EffectDesign:
    """The windows, matching and bootstrap of the per-decision estimator (ADR 0010)."""

    pre_weeks: int = 26
    earlier_weeks: int = 52
    min_pre_weeks: int = 8
    weeks_after_effective: int = 4
    min_post_weeks: int = 2
    active_weeks_after_effective: int = 26
    controls_per_area: int = 5
    placebos: int = 300
    placebo_share: float = 0.5
    coverage: float = 0.9
    seed: int = 0


@dataclass(frozen=True)
class _Windows:
    pre_start: int
    start: int
    end: int


def _windows(decision: pd.Series, weeks: int, design: EffectDesign) -> _Windows | None:
    start = int(decision["announced"])
    pre_start = max(0, start - design.pre_weeks)
    end = min(weeks, int(decision["effective"]) + design.weeks_after_effective + 1)
    if start - pre_start < design.min_pre_weeks or end - start < design.min_post_weeks or start >= weeks:
        return None
    return _Windows(pre_start, start, end)


def _touched(history: History, window: _Windows, design: EffectDesign) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Areas any decision may act on during the windows; and each such decision's members."""
    d = history.decisions
    active_from = d["announced"].to_numpy()
    active_to = d["effective"].to_numpy() + design.active_weeks_after_effective
    overlapping = (active_from < window.end) & (active_to >= window.pre_start)
    touched = np.zeros(len(history.area_ids), bool)
    members = {}
    for pid, areas in zip(d.loc[overlapping, "policy_id"], d.loc[overlapping, "members"], strict=True):
        touched[areas] = True
        members[pid] = areas
    return touched, members


def _matching_features(history: History, pre: np.ndarray, weeks: int, earlier: np.ndarray, earlier_weeks: int) -> np.ndarray:
    """Standardised (log pre-period activity, log earlier activity, log residents) per area.

    The earlier year's activity tells an area that is busy all the time from
    one that was busy just before the decision and would have calmed down
    anyway (regression to the mean); without it the two look alike.
    """
    activity = np.log1p(pre.sum(axis=1) / max(weeks, 1))
    before = np.log1p(earlier.sum(axis=1) / earlier_weeks) if earlier_weeks > 0 else activity
    people = history.residents.copy()
    people[~np.isfinite(people) | (people <= 0)] = np.nanmedian(people) if np.isfinite(people).any() else 1.0
    features = np.column_stack([activity, before, np.log(people)])
    spread = features.std(axis=0)
    return (features - features.mean(axis=0)) / np.where(spread > 0, spread, 1.0)


def _controls(order: dict[int, np.ndarray], members: np.ndarray, excluded: set[int], k: int) -> list[int]:
    out: list[int] = []
    for area in members:
        picked = [int(c) for c in order[int(area)] if int(c) not in excluded][:k]
        out.extend(picked)
    return out


def _theta(pre: np.ndarray, post: np.ndarray, exposed: np.ndarray, controls: list[int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    e_pre, e_post = pre[exposed].sum(axis=0), post[exposed].sum(axis=0)
    c_pre, c_post = pre[controls].sum(axis=0), post[controls].sum(axis=0)
    theta = np.log((e_post + 0.5) / (e_pre + 0.5)) - np.log((c_post + 0.5) / (c_pre + 0.5))
    return theta, e_pre, e_post


def _cluster(history: History, pool: np.ndarray, in_pool: np.ndarray, size: int, rng: np.random.Generator) -> np.ndarray:
    """A connected cluster of ``size`` pool areas grown from a random seed (random fill if it runs out)."""
    chosen = [int(rng.choice(pool))]
    frontier = list(chosen)
    while len(chosen) < size and frontier:
        node = frontier.pop(0)
        for nb in rng.permutation(history.neighbours[node]):
            if in_pool[nb] and int(nb) not in chosen and len(chosen) < size:
                chosen.append(int(nb))
                frontier.append(int(nb))
    if len(chosen) < size:
        rest = np.setdiff1d(pool, chosen)
        chosen.extend(int(c) for c in rng.choice(rest, size=size - len(chosen), replace=False))
    return np.array(chosen, dtype=np.int64)


def _neighbourhood(history: History, areas: np.ndarray) -> set[int]:
    out = {int(a) for a in areas}
    for a in areas:
        out |= {int(n) for n in history.neighbours[int(a)]}
    return out


def estimate_decision(history: History, decision: pd.Series, *, design: EffectDesign, cumulative: np.ndarray,
                      rng: np.random.Generator) -> list[dict] | None:
    """Effect rows (one per family) for one past decision, or None where the records cannot say."""
    window = _windows(decision, len(history.weeks), design)
    if window is None:
        return None
    touched, members = _touched(history, window, design)
    others = [areas for pid, areas in members.items() if pid != decision["policy_id"]]
    shared = np.unique(np.concatenate(others)) if others else np.zeros(0, np.int64)
    exposed = np.setdiff1d(decision["members"], shared)
    if len(exposed) == 0:
        return None
    excluded = _neighbourhood(history, decision["members"])
    pool = np.array([i for i in np.flatnonzero(~touched) if i not in excluded], dtype=np.int64)
    k = design.controls_per_area
    if len(pool) < max(3 * len(exposed), k + len(exposed)):
        return None
    pre = cumulative[:, window.start] - cumulative[:, window.pre_start]
    post = cumulative[:, window.end] - cumulative[:, window.start]
    earlier_start = max(0, window.pre_start - design.earlier_weeks)
    earlier = cumulative[:, window.pre_start] - cumulative[:, earlier_start]
    z = _matching_features(history, pre, window.start - window.pre_start, earlier, window.pre_start - earlier_start)
    candidates = np.union1d(pool, exposed)
    distance = ((z[candidates][:, None, :] - z[pool][None, :, :]) ** 2).sum(axis=2)
    order = {int(a): pool[np.argsort(distance[i], kind="stable")] for i, a in enumerate(candidates)}
    c_idx = _controls(order, exposed, excluded, k)
    theta, e_pre, e_post = _theta(pre, post, exposed, c_idx)
    c_pre, c_post = pre[c_idx].sum(axis=0), post[c_idx].sum(axis=0)
    e_earlier = earlier[exposed].sum(axis=0)

    in_pool = np.zeros(len(history.area_ids), bool)
    in_pool[pool] = True
    placebo_theta = np.empty((design.placebos, len(FAMILIES)))
    placebo_pre = np.empty((design.placebos, len(FAMILIES)))
    placebo_earlier = np.empty((design.placebos, len(FAMILIES)))
    for b in range(design.placebos):
        cluster = _cluster(history, pool, in_pool, len(exposed), rng)
        controls = _controls(order, cluster, _neighbourhood(history, cluster), k)
        if len(controls) < k:
            controls = [int(c) for c in pool if c not in set(cluster.tolist())][: k * len(cluster)]
        placebo_theta[b], placebo_pre[b], _ = _theta(pre, post, cluster, controls)
        placebo_earlier[b] = earlier[cluster].sum(axis=0)

    keep = max(20, int(design.placebo_share * design.placebos))
    tail = (1 - design.coverage) / 2
    rows = []
    for f, family in enumerate(FAMILIES):
        distance = (np.abs(np.log1p(placebo_pre[:, f]) - np.log1p(e_pre[f]))
                    + np.abs(np.log1p(placebo_earlier[:, f]) - np.log1p(e_earlier[f])))
        nearest = np.argsort(distance, kind="stable")[:keep]
        errors = placebo_theta[nearest, f]
        rows.append({
            "policy_id": decision["policy_id"], "type": decision["type"], "family": family,
            "estimate": float(theta[f]),
            "lower": float(theta[f] - np.quantile(errors, 1 - tail)),
            "upper": float(theta[f] - np.quantile(errors, tail)),
            "placebo_sd": float(errors.std(ddof=1)), "placebo_median": float(np.median(errors)),
            "exposed_areas": len(exposed), "listed_areas": len(decision["members"]),
            "control_areas": len(set(c_idx)),
            "exposed_pre": int(e_pre[f]), "exposed_post": int(e_post[f]),
            "control_pre": int(c_pre[f]), "control_post": int(c_post[f]),
            "pre_weeks": window.start - window.pre_start, "post_weeks": window.end - window.start,
        })
    return rows


DECISION_COLUMNS = ("announced_on", "effective_on", "households_affected", "compensation_ratio", "hearing_held")


def estimate_effects(history: History, *, design: EffectDesign | None = None) -> pd.DataFrame:
    """One row per (past decision, family) the records can speak to, with its interval."""
    design = design or EffectDesign()
    rng = np.random.default_rng(design.seed)
    cumulative = history.cumulative
    rows: list[dict] = []
    for _, decision in history.decisions.iterrows():
        found = estimate_decision(history, decision, design=design, cumulative=cumulative, rng=rng)
        if found:
            extra = {name: decision[name] for name in DECISION_COLUMNS}
            rows.extend({**row, **extra} for row in found)
    columns = ["policy_id", "type", "family", "estimate", "lower", "upper", "placebo_sd", "placebo_median", "exposed_areas",
               "listed_areas", "control_areas", "exposed_pre", "exposed_post", "control_pre", "control_post",
               "pre_weeks", "post_weeks", *DECISION_COLUMNS]
    return pd.DataFrame(rows, columns=columns)
