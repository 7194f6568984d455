"""Weekly population of every community, and the structural drivers it yields.

Initial state (per community): residents log-normal around 15,000 (DESIGN.md:
10,000-40,000), a migrant share that depends on the district (industrial
districts are mostly migrants, old town a few percent), a rental share that
follows the migrant share, an elderly share that falls as migrants rise,
low-income households (about 4% of households) and unemployment (about 5% of
the labour force).

Weekly change: residents follow a community trend (sd ``growth_sd_per_year``);
migrants grow by ``migrant_inflow_per_year`` on average and a share
(``migrant_exodus``) leaves for the Spring Festival weeks; the elderly share
drifts up by ``ageing_per_year``; a factory closes in a community at rate
``closure_rate_per_week``, adding log-normal job losses (median
``closure_jobs_median``) to it and half as many to each neighbour, decaying
with half-life ``closure_half_life_weeks``. Closures also shock the labour and
enterprise families directly (see tension.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from features.simulation.config import DriverParams, PopulationParams
from features.simulation.geography import City

DRIVERS = ("migrant_share", "low_income", "unemployment", "rental_share", "elderly_share")


@dataclass
class Population:
    """Mutable population state, one entry per community."""

    base_residents: np.ndarray  # float
    trend: np.ndarray  # weekly log growth of residents
    migrant_share: np.ndarray
    migrant_growth: np.ndarray  # weekly log growth of the migrant stock
    elderly_share: np.ndarray
    low_income_rate: np.ndarray  # share of households
    rental_share: np.ndarray
    base_unemployment: np.ndarray  # share of the labour force
    closure_jobs: np.ndarray  # jobs lost to recent closures (decaying)
    weeks_elapsed: int = 0
    closures: int = 0

    @classmethod
    def initial(cls, city: City, params: PopulationParams, rng: np.random.Generator) -> Population:
        n = city.n
        n_districts = int(city.district_of_street.max()) + 1
        district_migrants = rng.beta(1.2, 2.5, size=n_districts)  # district character
        dm = district_migrants[city.district_of_street[city.street_of]]
        migrant = np.clip(rng.beta(1.2, 4.0, size=n) * 0.5 + dm**1.5 * 0.8, 0.02, 0.92)
        residents = np.clip(rng.lognormal(np.log(params.residents_median), params.residents_sd_log, size=n),
                            params.residents_min, params.residents_max)
        weekly = 1.0 / 52.0
        return cls(
            base_residents=residents,
            trend=rng.normal(0.0, params.growth_sd_per_year, size=n) * weekly,
            migrant_share=migrant,
            migrant_growth=rng.normal(params.migrant_inflow_per_year, 0.03, size=n) * weekly,
            elderly_share=np.clip(rng.beta(6, 30, size=n) * (1.2 - 0.6 * migrant), 0.03, 0.45),
            low_income_rate=np.clip(rng.gamma(2.0, 0.02, size=n), 0.002, 0.3),
            rental_share=np.clip(0.1 + 0.7 * migrant + rng.normal(0, 0.08, size=n), 0.02, 0.95),
            base_unemployment=np.clip(rng.gamma(3.0, 0.016, size=n), 0.005, 0.25),
            closure_jobs=np.zeros(n),
        )

    def step(self, city: City, params: PopulationParams, rng: np.random.Generator) -> np.ndarray:
        """Advance one week; returns the direct tension shock of this week's closures (n,)."""
        self.weeks_elapsed += 1
        self.base_residents *= np.exp(self.trend)
        growth = np.exp(self.migrant_growth)
        self.migrant_share = np.clip(self.migrant_share * growth / (1 + self.migrant_share * (growth - 1)), 0.01, 0.95)
        self.elderly_share = np.clip(self.elderly_share + params.ageing_per_year / 52.0, 0.0, 0.6)
        self.closure_jobs *= 0.5 ** (1.0 / params.closure_half_life_weeks)
        closed = rng.random(city.n) < params.closure_rate_per_week
        shock = np.zeros(city.n)
        if closed.any():
            jobs = np.zeros(city.n)
            jobs[closed] = rng.lognormal(np.log(params.closure_jobs_median), 0.7, size=int(closed.sum()))
            spill = np.zeros(city.n)
            np.add.at(spill, city.edges_dst, 0.5 * jobs[city.edges_src])
            self.closure_jobs += jobs + spill
            shock = closed.astype(float) + 0.5 * (spill > 0)
            self.closures += int(closed.sum())
        return shock

    def snapshot(self, params: PopulationParams, away_share: float) -> dict[str, np.ndarray]:
        """Integer counts of this week; ``away_share`` of migrants are away (festival)."""
        migrants_total = self.base_residents * self.migrant_share
        migrants = np.rint(migrants_total * (1.0 - away_share)).astype(np.int64)
        registered = np.rint(self.base_residents * (1.0 - self.migrant_share)).astype(np.int64)
        residents = registered + migrants
        labour = residents * params.labour_force_share
        unemployed = np.minimum(np.rint(labour * self.base_unemployment + self.closure_jobs), labour).astype(np.int64)
        households = residents / params.household_size
        return {
            "residents": residents,
            "registered": registered,
            "migrants": migrants,
            "elderly_share": np.round(self.elderly_share * registered / np.maximum(residents, 1), 4),
            "low_income_households": np.rint(households * self.low_income_rate).astype(np.int64),
            "rental_share": np.round(self.rental_share, 4),
            "unemployed": unemployed,
        }


def population_table(ids: np.ndarray, period_start: np.datetime64, snap: dict[str, np.ndarray]) -> pa.Table:
    """The population rows of one week."""
    n = len(ids)
    return pa.table({
        "area_id": pa.array(ids, type=pa.string()),
        "period_start": pa.array(np.full(n, period_start, dtype="datetime64[D]"), type=pa.date32()),
        "residents": pa.array(snap["residents"], type=pa.int64()),
        "registered": pa.array(snap["registered"], type=pa.int64()),
        "migrants": pa.array(snap["migrants"], type=pa.int64()),
        "elderly_share": pa.array(snap["elderly_share"], type=pa.float64()),
        "low_income_households": pa.array(snap["low_income_households"], type=pa.int64()),
        "rental_share": pa.array(snap["rental_share"], type=pa.float64()),
        "unemployed": pa.array(snap["unemployed"], type=pa.int64()),
    })


def driver_matrix(snap: dict[str, np.ndarray], params: DriverParams, labour_force_share: float,
                  household_size: float) -> np.ndarray:
    """Standardised drivers (n, 5) in the order of ``DRIVERS``."""
    residents = np.maximum(snap["residents"], 1).astype(float)
    raw = {
        "migrant_share": snap["migrants"] / residents,
        "low_income": snap["low_income_households"] / (residents / household_size),
        "unemployment": snap["unemployed"] / (residents * labour_force_share),
        "rental_share": snap["rental_share"],
        "elderly_share": snap["elderly_share"],
    }
    return np.stack([(raw[d] - params.centres[d][0]) / params.centres[d][1] for d in DRIVERS], axis=1)
