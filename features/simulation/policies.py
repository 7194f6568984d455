"""Major decisions (重大决策): when, where, and how much tension they add.

Policies arrive at ``rate_per_community_week`` x communities a week, from
``lead_weeks`` before the start (past decisions still acting) to the end.
Each affects a cluster of 1-``max_areas`` adjacent communities and one or two
dispute families fixed by its type (``TYPE_FAMILIES``). From the week it is
announced to the end of its effect (effective_on plus 4-26 weeks) it adds a
constant ``log_effect`` to the log intensity of those families there:

    log_effect = base_effect[type] + low_compensation * max(0, 1 - compensation_ratio)
               + no_hearing * (hearing not held) + 0.08 * log(households / 500) + N(0, effect_sd)

clipped to [0.1, 2]. That direct multiplier exp(log_effect) is the truth
written to ``truth_policies``; escalations it causes excite further disputes
(tension.py), so the uplift seen in the records is a little larger.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from features.contracts import POLICY_TYPES
from features.simulation.config import FAMILIES, F, SimulationConfig
from features.simulation.geography import City

TYPE_FAMILIES: dict[str, tuple[str, ...]] = {
    "land_requisition": ("land_demolition", "rural_land"),
    "relocation": ("land_demolition", "neighbour_rights"),
    "wage_pension": ("social_security", "labour_wages"),
    "fees_prices": ("consumer_prices",),
    "facility_siting": ("environment", "neighbour_rights"),
    "school_hospital_change": ("medical", "social_security"),
    "other": ("neighbour_rights",),
}
TYPE_PROBS = np.array([0.22, 0.18, 0.12, 0.14, 0.14, 0.10, 0.10])
TYPE_NAMES = {
    "land_requisition": "土地征收", "relocation": "房屋征收与安置", "wage_pension": "工资养老金调整",
    "fees_prices": "收费价格调整", "facility_siting": "设施选址", "school_hospital_change": "学校医院调整",
    "other": "其他重大决策",
}
COMPENSATED = ("land_requisition", "relocation", "facility_siting")


@dataclass(frozen=True)
class Policies:
    """Every policy of the run and its incidence on (community, family) cells."""

    table: pa.Table  # the policies file
    truth: pa.Table  # truth_policies
    start_week: np.ndarray  # per incidence row: first and last week index of the effect
    end_week: np.ndarray
    cell_comm: np.ndarray
    cell_fam: np.ndarray
    cell_effect: np.ndarray

    def effect(self, week: int, n: int) -> np.ndarray:
        """Summed log effect of the policies active in ``week`` on each (community, family)."""
        out = np.zeros((n, F))
        active = (self.start_week <= week) & (week <= self.end_week)
        np.add.at(out, (self.cell_comm[active], self.cell_fam[active]), self.cell_effect[active])
        return out


def _cluster(city: City, seed: int, size: int, rng: np.random.Generator, starts: np.ndarray) -> list[int]:
    """A connected cluster of ``size`` communities grown from ``seed`` over the adjacency."""
    chosen, frontier = [seed], [seed]
    while len(chosen) < size and frontier:
        node = frontier.pop(0)
        nbrs = city.edges_dst[starts[node]:starts[node + 1]]
        for nb in rng.permutation(nbrs):
            if int(nb) not in chosen and len(chosen) < size:
                chosen.append(int(nb))
                frontier.append(int(nb))
    return chosen


def generate_policies(city: City, config: SimulationConfig, rng: np.random.Generator) -> Policies:
    p = config.policies
    lead = p.lead_weeks
    count = int(rng.poisson(p.rate_per_community_week * city.n * (config.weeks + lead)))
    count = max(count, 3)
    week = np.sort(rng.integers(-lead, config.weeks, size=count))
    types = np.array(POLICY_TYPES)[rng.choice(len(POLICY_TYPES), size=count, p=TYPE_PROBS)]
    start = np.datetime64(config.start, "D")
    announced = start + (7 * week + rng.integers(0, 5, size=count)).astype("timedelta64[D]")
    effective = announced + rng.integers(14, 113, size=count).astype("timedelta64[D]")
    effect_end = effective + rng.integers(28, 183, size=count).astype("timedelta64[D]")
    end_week = ((effect_end - start).astype(int) // 7).astype(np.int64)
    compensated = np.isin(types, COMPENSATED)
    compensation = np.where(compensated, np.round(rng.uniform(0.5, 1.3, size=count), 2), np.nan)
    hearing = rng.random(count) < 0.55
    households = np.rint(rng.lognormal(np.log(400), 1.0, size=count)).astype(np.int64) + 10
    shortfall = np.where(compensated, np.maximum(0.0, 1.0 - np.nan_to_num(compensation, nan=1.0)), 0.0)
    base = np.array([p.base_effect[t] for t in types])
    log_effect = np.clip(base + p.low_compensation * shortfall + p.no_hearing * (~hearing)
                         + 0.08 * np.log(households / 500) + rng.normal(0, p.effect_sd, size=count), 0.1, 2.0)
    sizes = np.minimum(1 + rng.binomial(p.max_areas - 1, 0.35, size=count), city.n)
    seeds = rng.integers(0, city.n, size=count)
    starts = np.searchsorted(city.edges_src, np.arange(city.n + 1))
    names = city.areas.column("name").to_numpy(zero_copy_only=False)[-city.n:]

    ids = np.array([f"POL{i + 1:06d}" for i in range(count)], dtype=object)
    area_lists, descriptions, c_comm, c_pol = [], [], [], []
    for i in range(count):
        members = _cluster(city, int(seeds[i]), int(sizes[i]), rng, starts)
        area_lists.append(";".join(city.community_ids[members]))
        descriptions.append(f"{names[members[0]]}等{len(members)}个社区{TYPE_NAMES[types[i]]}")
        c_comm.extend(members)
        c_pol.extend([i] * len(members))
    c_comm_a, c_pol_a = np.array(c_comm, dtype=np.int64), np.array(c_pol, dtype=np.int64)
    fam_pol, fam_idx = [], []
    for i, t in enumerate(types):
        for family in TYPE_FAMILIES[t]:
            fam_pol.append(i)
            fam_idx.append(FAMILIES.index(family))
    fam_pol_a, fam_idx_a = np.array(fam_pol), np.array(fam_idx)
    # incidence = (policy, community) x (policy, family) joined on policy
    pairs_per_policy = np.bincount(fam_pol_a, minlength=count)
    rep = np.repeat(np.arange(len(c_pol_a)), pairs_per_policy[c_pol_a])
    fam_start = np.searchsorted(fam_pol_a, np.arange(count))
    within = np.arange(len(rep)) - np.repeat(np.cumsum(pairs_per_policy[c_pol_a]) - pairs_per_policy[c_pol_a],
                                             pairs_per_policy[c_pol_a])
    pol_of = c_pol_a[rep]
    cell_fam = fam_idx_a[fam_start[pol_of] + within]

    table = pa.table({
        "policy_id": ids.astype(str), "type": types.astype(str), "areas": np.array(area_lists, dtype=str),
        "announced_on": pa.array(announced, type=pa.date32()), "effective_on": pa.array(effective, type=pa.date32()),
        "households_affected": pa.array(households, type=pa.int64()),
        "compensation_ratio": pa.array(compensation, type=pa.float64(), from_pandas=True),
        "hearing_held": pa.array(hearing, type=pa.bool_()), "description": np.array(descriptions, dtype=str),
    })
    truth = pa.table({
        "policy_id": ids[fam_pol_a].astype(str), "type": types[fam_pol_a].astype(str),
        "family": np.array(FAMILIES)[fam_idx_a], "log_effect": np.round(log_effect[fam_pol_a], 4),
        "multiplier": np.round(np.exp(log_effect[fam_pol_a]), 4),
        "effect_start": pa.array(start + 7 * np.maximum(week[fam_pol_a], -10_000), type=pa.date32()),
        "effect_end": pa.array(start + 7 * end_week[fam_pol_a] + 6, type=pa.date32()),
        "n_areas": sizes[fam_pol_a].astype(np.int64),
    })
    return Policies(table, truth, week[pol_of], end_week[pol_of], c_comm_a[rep], cell_fam, log_effect[pol_of])
