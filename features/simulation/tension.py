"""The hidden state: latent tension per community x family, and the weekly intensities.

Log intensity of recorded-or-not disputes of family f in community i, week t:

    eta[i, f] = log(base_f) + log(residents_i / 15,000) + u_i + v_if   (fixed: heavy tails)
              + season_f(t) + drivers_i(t) @ loadings[:, f]             (calendar, population)
              + x[i, f, t] + s * log1p(e[i, f, t]) + policy[i, f, t]               (latent, excitation, policies)

``x`` is AR(1) (TensionParams): persistence ``phi``, diffusion towards the
neighbours' level ``omega``, innovations mixed with the neighbours' (``beta_neighbour``),
a community-wide part shared by all families (``common_shock``) and a
street-wide shock (``street_shock``), plus the mediation feedback of last
week (FeedbackParams: agreements lower it, failures and backlogs raise it,
each with a saturating response c * (1 - exp(-count)) that keeps the process stable) and
factory-closure shocks. ``e`` is the self-exciting part: each escalation last
week adds ``self_excitation`` in its own community and family and
``neighbour_excitation`` / degree in each neighbour, decaying by
``excitation_decay`` a week, and enters the log intensity as
``excitation_strength * log1p(e)`` (concave, so it cannot run away). None of it is written to the records.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from features.calendar import SPRING_FESTIVAL, days_to_spring_festival
from features.simulation.config import FAMILIES, F, SimulationConfig, family_vector
from features.simulation.geography import City

_FESTIVAL_DAYS = np.array(sorted(SPRING_FESTIVAL.values()), dtype="datetime64[D]")
LABOUR = FAMILIES.index("labour_wages")
ENTERPRISE = FAMILIES.index("enterprise_restructuring")


def festival_offset(day: dt.date) -> int:
    """Signed days from the nearest Spring Festival (negative before it)."""
    d = np.datetime64(day, "D")
    return int(min((d - _FESTIVAL_DAYS).astype(int), key=abs))


def season(week_start: dt.date, config: SimulationConfig) -> tuple[np.ndarray, float]:
    """Log seasonal effect per family (F,) for a week, and the share of migrants away."""
    p = config.season
    mid = week_start + dt.timedelta(days=3)
    effect = np.zeros(F)
    days_to = float(days_to_spring_festival(pd.DatetimeIndex([mid]))[0])
    effect[LABOUR] += p.wage_amplitude * np.exp(-0.5 * ((days_to - p.wage_peak_days) / p.wage_width_days) ** 2)
    construction = p.construction_uplift if mid.month in p.construction_months else p.construction_offseason
    for family in ("land_demolition", "rural_land"):
        effect[FAMILIES.index(family)] += construction
    offset = festival_offset(mid)
    away = 0.0
    if -3 <= offset <= 7:
        effect += p.festival_lull
        away = p.migrant_exodus
    elif -10 <= offset <= 17:
        away = p.migrant_exodus / 2
    return effect, away


@dataclass
class Tension:
    """The latent state carried from week to week."""

    fixed: np.ndarray  # (n, F) log base rate + community and family effects, petitions
    fixed_mediation: np.ndarray  # (n, F) same for mediation
    reporting: np.ndarray  # (n,) share of ordinary disputes that reach the records
    x: np.ndarray  # (n, F) AR(1) latent tension
    e: np.ndarray  # (n, F) self-exciting part

    @classmethod
    def initial(cls, city: City, config: SimulationConfig, rng: np.random.Generator) -> Tension:
        t, r = config.tension, config.rates
        n = city.n
        u = rng.normal(-0.5 * t.community_sd**2, t.community_sd, size=(n, 1))  # mean-one multiplier
        v = rng.normal(-0.5 * t.family_sd**2, t.family_sd, size=(n, F))
        own_var = 1 + t.beta_neighbour**2 / 4
        stationary_sd = t.sigma * np.sqrt((own_var * (1 + t.common_shock**2) + t.street_shock**2) / (1 - t.phi**2))
        x = rng.normal(0.0, stationary_sd, size=(n, F))
        return cls(
            fixed=np.log(family_vector(r.petitions))[None, :] + u + v,
            fixed_mediation=np.log(family_vector(r.mediation))[None, :] + u + v,
            reporting=rng.beta(r.reporting_a, r.reporting_b, size=n),
            x=x,
            e=np.zeros((n, F)),
        )

    def advance(self, city: City, config: SimulationConfig, rng: np.random.Generator, *,
                escalations: np.ndarray, agreements: np.ndarray, failures: np.ndarray,
                backlog: np.ndarray, closure_shock: np.ndarray) -> None:
        """Move to the next week given last week's events (all (n, F) counts; shock (n,))."""
        t, fb = config.tension, config.feedback
        n_streets = int(city.street_of.max()) + 1
        own = rng.standard_normal((city.n, F + 1))  # last column: the community-wide innovation
        mixed = own + t.beta_neighbour * city.neighbour_mean(own)
        street = rng.standard_normal(n_streets)[city.street_of]
        innovation = mixed[:, :F] + (t.common_shock * mixed[:, F] + t.street_shock * street)[:, None]
        feedback = (fb.agreement * -np.expm1(-agreements) + fb.failure * -np.expm1(-failures)
                    + fb.backlog * -np.expm1(-backlog / fb.backlog_scale))
        feedback[:, LABOUR] += config.population.closure_tension * closure_shock
        feedback[:, ENTERPRISE] += config.population.closure_tension * closure_shock
        self.x = (t.phi * self.x + t.omega * (city.neighbour_mean(self.x) - self.x)
                  + t.sigma * innovation + feedback)
        self.e = (fb.excitation_decay * self.e + fb.self_excitation * escalations
                  + fb.neighbour_excitation * city.neighbour_mean(escalations.astype(float)))

    def log_intensity(self, *, strength: float, residents: np.ndarray, reference: float, season_effect: np.ndarray,
                      drivers: np.ndarray, loadings: np.ndarray, policy: np.ndarray) -> np.ndarray:
        """The part of eta shared by petitions and mediation (without the family base rate)."""
        return (np.log(residents / reference)[:, None] + season_effect[None, :] + drivers @ loadings
                + self.x + strength * np.log1p(self.e) + policy)
