"""The weekly loop that ties the mechanisms together, and the truth it records.

Week t, in order: population moves (population.py); last week's events feed
the latent tension (tension.py); the week's intensities follow from tension,
season, drivers and active policies; the true escalation probability is
computed from the state at the start of the week; petitions are drawn
(events.py), mediation cases opened and this week's closings decided
(mediation.py); escalations excite the next weeks.

The escalation of a community-week (DESIGN.md, features.contracts) happens
if a collective or cross-level petition is received, or a serious mediation
fails (by ``closed_on``). Given the state at the start of the week these
are independent Poisson / Bernoulli events, so the probability is exact:

    p = 1 - exp(-sum_f lambda_P q - sum_f lambda_M_rec s h pi) * prod_f (1 - h pi)^(open serious cases)

(new escalating petitions; new serious cases that fail within their first
week; open serious cases that close and fail this week).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from features.simulation.config import FAMILIES, F, SimulationConfig
from features.simulation.events import draw_petitions, sigmoid
from features.simulation.geography import City, build_city
from features.simulation.mediation import Backlog, hazards, serious_share
from features.simulation.policies import generate_policies
from features.simulation.population import DRIVERS, Population, driver_matrix, population_table
from features.simulation.tension import Tension, season
from features.simulation.writer import MemorySinks, Sinks

Progress = Callable[[int, int], None]
# p_escalation histogram on the logit scale: bounded memory for the oracle hit rate.
_BINS = np.linspace(-16.0, 8.0, 4801)


@dataclass
class RunStats:
    """What the loop measures while it runs (bounded whatever the size)."""

    community_weeks: int = 0
    escalations: int = 0
    p_sum: float = 0.0
    hist_all: np.ndarray = field(default_factory=lambda: np.zeros(len(_BINS) + 1, np.int64))
    hist_esc: np.ndarray = field(default_factory=lambda: np.zeros(len(_BINS) + 1, np.int64))
    screened_found: int = 0
    screened_mediated: int = 0
    closures: int = 0
    policies: int = 0

    def add(self, p: np.ndarray, flag: np.ndarray) -> None:
        logit = np.log(np.clip(p, 1e-12, 1 - 1e-12)) - np.log1p(-np.clip(p, 1e-12, 1 - 1e-12))
        where = np.searchsorted(_BINS, logit)
        self.hist_all += np.bincount(where, minlength=len(_BINS) + 1)
        self.hist_esc += np.bincount(where[flag], minlength=len(_BINS) + 1)
        self.community_weeks += len(p)
        self.escalations += int(flag.sum())
        self.p_sum += float(p.sum())

    def oracle_hit_rate(self, top: float = 0.05) -> float:
        """Share of escalations in the top ``top`` of community-weeks ranked by p (bin resolution)."""
        if self.escalations == 0:
            return float("nan")
        from_top_all = np.cumsum(self.hist_all[::-1])
        from_top_esc = np.cumsum(self.hist_esc[::-1])
        k = int(np.searchsorted(from_top_all, top * self.community_weeks))
        k = min(k, len(from_top_all) - 1)
        # interpolate inside the bin that crosses the cut-off
        before_all = from_top_all[k - 1] if k else 0
        before_esc = from_top_esc[k - 1] if k else 0
        in_bin = from_top_all[k] - before_all
        share = (top * self.community_weeks - before_all) / in_bin if in_bin else 0.0
        return float((before_esc + share * (from_top_esc[k] - before_esc)) / self.escalations)


def _loadings(config: SimulationConfig) -> np.ndarray:
    out = np.zeros((len(DRIVERS), F))
    for d, row in config.drivers.loadings.items():
        for family, value in row.items():
            out[DRIVERS.index(d), FAMILIES.index(family)] = value
    return out


def _truth_table(ids: np.ndarray, week_start: np.datetime64, p: np.ndarray, flag: np.ndarray, esc: np.ndarray,
                 exp_pet: np.ndarray, exp_med: np.ndarray) -> pa.Table:
    n = len(ids)
    cols: dict[str, pa.Array] = {
        "area_id": pa.array(ids, type=pa.string()),
        "period_start": pa.array(np.full(n, week_start, "datetime64[D]"), type=pa.date32()),
        "p_escalation": pa.array(np.round(p, 6), type=pa.float64()),
        "escalated": pa.array(flag, type=pa.bool_()),
        "escalations": pa.array(esc.sum(axis=1).astype(np.int64), type=pa.int64()),
        "expected_petitions": pa.array(np.round(exp_pet.sum(axis=1), 4).astype(np.float32)),
        "expected_mediation": pa.array(np.round(exp_med.sum(axis=1), 4).astype(np.float32)),
    }
    for f, family in enumerate(FAMILIES):
        cols[f"expected_petitions_{family}"] = pa.array(np.round(exp_pet[:, f], 4).astype(np.float32))
    for f, family in enumerate(FAMILIES):
        cols[f"expected_mediation_{family}"] = pa.array(np.round(exp_med[:, f], 4).astype(np.float32))
    return pa.table(cols)


@dataclass(frozen=True)
class HiddenState:
    """What the records never show, for one week: research on how much of the risk a model can see."""

    week_start: np.datetime64
    ids: np.ndarray  # (n,) community ids
    tension: np.ndarray  # (n, F) latent AR(1) tension x at the start of the week
    excitation: np.ndarray  # (n, F) self-exciting part e
    open_serious: np.ndarray  # (n, F) serious cases open in mediation, recorded or not
    policy: np.ndarray  # (n, F) policies' effect on the log intensity
    drivers: np.ndarray  # (n, F) structural drivers' effect on the log intensity
    base: np.ndarray  # (n, F) log base rate with the community and family effects (fixed)
    reporting: np.ndarray  # (n,) share of ordinary disputes that reach the records (fixed)


def run(config: SimulationConfig, sinks: Sinks | MemorySinks, progress: Progress | None = None,
        observe: Callable[[HiddenState], None] | None = None) -> tuple[RunStats, City]:
    """Simulate every week of ``config`` into ``sinks``; returns the run's statistics.

    ``observe``, if given, receives each week's hidden state (benchmarks/model_bench.py).
    """
    seeds = np.random.SeedSequence(config.seed).spawn(6)
    rng_geo, rng_pop, rng_pol, rng_ten, rng_pet, rng_med = (np.random.default_rng(s) for s in seeds)
    city = build_city(config.communities, rng_geo)
    ids = city.community_ids.astype(str)
    n, ev = city.n, config.events
    sinks.write("areas", city.areas)
    sinks.write("adjacency", city.adjacency_table())
    population = Population.initial(city, config.population, rng_pop)
    policies = generate_policies(city, config, rng_pol)
    sinks.write("policies", policies.table)
    sinks.write("truth_policies", policies.truth)
    tension = Tension.initial(city, config, rng_ten)
    backlog, stats = Backlog(), RunStats(policies=policies.table.num_rows)
    loadings, h, s = _loadings(config), hazards(config), serious_share(config)
    recording_share = (1 - ev.screened_share) * tension.reporting + ev.screened_share
    recent = np.zeros((n, F))
    escalations = agreements = failures = np.zeros((n, F))
    pet_seq = 1
    for week in range(config.weeks):
        day = config.start + dt.timedelta(days=7 * week)
        week_start = np.datetime64(day, "D")
        if week:
            shock = population.step(city, config.population, rng_pop)
            tension.advance(city, config, rng_ten, escalations=escalations, agreements=agreements,
                            failures=failures, backlog=backlog.open_counts(n), closure_shock=shock)
        season_effect, away = season(day, config)
        snap = population.snapshot(config.population, away)
        sinks.write("population", population_table(ids, week_start, snap))
        drivers = driver_matrix(snap, config.drivers, config.population.labour_force_share,
                                config.population.household_size)
        policy = policies.effect(week, n)
        common = tension.log_intensity(strength=config.feedback.excitation_strength, residents=snap["residents"].astype(float),
                                       reference=config.rates.reference_residents, season_effect=season_effect,
                                       drivers=drivers, loadings=loadings, policy=policy)
        cap = config.feedback.max_log_intensity
        lam_p = np.exp(np.minimum(tension.fixed + common, cap))
        lam_m = np.exp(np.minimum(tension.fixed_mediation + common, cap))
        q = sigmoid(ev.petition_escalation_logit + ev.petition_escalation_tension * tension.x)
        pi = sigmoid(ev.fail_logit + ev.fail_tension * tension.x)
        lam_m_rec = lam_m * recording_share[:, None]
        new_hazard = (lam_p * q).sum(axis=1) + (lam_m_rec * s * h * pi).sum(axis=1)
        open_serious = backlog.serious_open(n)
        backlog_survival = (open_serious * np.log1p(-h * pi)).sum(axis=1)
        p = -np.expm1(-new_hazard + backlog_survival)
        if observe is not None:
            observe(HiddenState(week_start=week_start, ids=ids, tension=tension.x.copy(), excitation=tension.e.copy(),
                                open_serious=open_serious, policy=policy,
                                drivers=drivers @ loadings, base=tension.fixed, reporting=tension.reporting))

        pet = draw_petitions(rng=rng_pet, config=config, week_start=week_start, ids=ids, lam=lam_p, q=q,
                             reporting=tension.reporting, x=tension.x, recent=recent, first_seq=pet_seq)
        pet_seq += pet.originals.num_rows
        sinks.write("petitions", recorded_before(pet.originals, config.export_on))
        sinks.write("petitions_corrections", recorded_before(pet.corrections, config.export_on))
        backlog.open_cases(rng=rng_med, config=config, week=week, week_start=week_start, lam=lam_m,
                           reporting=tension.reporting)
        originals, corrections, counts = backlog.close_cases(rng=rng_med, config=config, week=week,
                                                             week_start=week_start, ids=ids, fail_p=pi)
        sinks.write("mediation", recorded_before(originals, config.export_on))
        sinks.write("mediation_corrections", recorded_before(corrections, config.export_on))

        escalations = pet.escalations + counts["serious_failures"]
        agreements, failures = counts["agreements"], counts["failures"]
        flag = escalations.sum(axis=1) > 0
        stats.add(p, flag)
        exp_pet = lam_p * (q + (1 - q) * tension.reporting[:, None])
        sinks.write("truth_area_weeks", _truth_table(ids, week_start, p, flag, escalations, exp_pet, lam_m_rec))
        recent = 0.7 * recent + pet.counts
        if progress is not None:
            progress(week + 1, config.weeks)
    originals, _, _ = backlog.close_cases(rng=rng_med, config=config, week=config.weeks, week_start=week_start,
                                          ids=ids, fail_p=np.zeros((n, F)), final=True)
    sinks.write("mediation", recorded_before(originals, config.export_on))
    stats.screened_found, stats.screened_mediated = backlog.screened_found, backlog.screened_mediated
    stats.closures = population.closures
    return stats, city


def recorded_before(table: pa.Table, export_on: dt.date) -> pa.Table:
    """The rows entered before the export day: what an extract taken that day holds."""
    cut = pa.scalar(export_on, type=table.schema.field("recorded_on").type)
    return table.filter(pc.less(table["recorded_on"], cut))
