"""Parameters of the simulated city, in one frozen dataclass per mechanism.

Every number that shapes the records lives here, with the reason for its
value, so that docs/simulator.md and the tests can cite one place. The
defaults give a demo-sized city (300 communities, 156 weeks from
2023-01-02); nothing here reads the environment.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from features.contracts import DISPUTE_FAMILIES

#: The dispute families in a fixed order: column ``f`` of every (community, family) array.
FAMILIES: tuple[str, ...] = tuple(DISPUTE_FAMILIES)
F = len(FAMILIES)


def family_vector(values: dict[str, float], default: float = 0.0) -> np.ndarray:
    """A length-F float vector from a {family: value} mapping."""
    unknown = set(values) - set(FAMILIES)
    if unknown:
        raise ValueError(f"unknown dispute families: {sorted(unknown)}")
    return np.array([values.get(name, default) for name in FAMILIES], dtype=np.float64)


@dataclass(frozen=True)
class TensionParams:
    """Latent tension x[i, f]: an AR(1) process on the log scale of dispute intensity.

    x_t = phi * x_{t-1} + omega * (mean of neighbours' x_{t-1} - x_{t-1}) + sigma * innovation + feedback,
    innovation = (own[i, f] + beta * neighbours' mean of own)          family-specific
               + common * (own[i] + beta * neighbours' mean of own[i])  community-wide, all families
               + street * shock[street of i]                            street-wide, all families.
    phi 0.92 gives a half-life of about 8 weeks (tension persists for a season);
    sigma is set so the stationary sd is about 0.55 (a factor of 1.7 either way).
    The community- and street-wide parts make tension move together across
    families and between neighbours, which is what makes spill-over visible
    in total counts.
    """

    phi: float = 0.92
    sigma: float = 0.14
    omega: float = 0.04  # diffusion of tension towards the neighbours' level
    beta_neighbour: float = 0.6  # weight of the neighbours' innovations in one's own
    common_shock: float = 1.0  # weight of the community-wide innovation shared by all families
    street_shock: float = 0.5  # weight of a shock shared by the whole street
    community_sd: float = 0.9  # sd of the fixed community effect: heavy tails
    family_sd: float = 0.45  # sd of the fixed community x family effect


@dataclass(frozen=True)
class RateParams:
    """Baseline weekly rates per community of 15,000 residents, before every multiplier.

    About 18 petitions and 30 mediation cases a community a year on average
    (national totals of roughly 10 million petitions and 9 million mediated
    disputes over some 600,000 villages and communities, urban communities
    above the mean), spread over the families as the survey names them.
    """

    petitions: dict[str, float] = field(default_factory=lambda: {
        "marriage_family": 0.010, "neighbour_rights": 0.030, "personal_injury": 0.010,
        "rural_land": 0.012, "private_lending": 0.015, "labour_wages": 0.040,
        "medical": 0.012, "environment": 0.025, "land_demolition": 0.040,
        "traffic_compensation": 0.008, "consumer_prices": 0.015,
        "enterprise_restructuring": 0.012, "social_security": 0.040,
    })
    mediation: dict[str, float] = field(default_factory=lambda: {
        "marriage_family": 0.110, "neighbour_rights": 0.110, "personal_injury": 0.045,
        "rural_land": 0.020, "private_lending": 0.045, "labour_wages": 0.035,
        "medical": 0.015, "environment": 0.012, "land_demolition": 0.015,
        "traffic_compensation": 0.040, "consumer_prices": 0.030,
        "enterprise_restructuring": 0.006, "social_security": 0.010,
    })
    reference_residents: float = 15_000.0
    reporting_a: float = 4.0  # Beta(a, b) share of ordinary disputes that reach the records
    reporting_b: float = 2.0


@dataclass(frozen=True)
class SeasonParams:
    """Calendar effects on the log intensity.

    Wage arrears peak about two weeks before the Spring Festival, when
    migrant workers want to be paid before going home; land and relocation
    disputes follow the construction season (March-October); everything is
    quieter in the festival week itself.
    """

    wage_peak_days: float = 15.0  # days before the festival of the peak
    wage_width_days: float = 12.0
    wage_amplitude: float = 1.0  # log scale: x2.7 at the peak
    construction_months: tuple[int, ...] = (3, 4, 5, 6, 7, 8, 9, 10)
    construction_uplift: float = 0.45
    construction_offseason: float = -0.20
    festival_lull: float = -0.6
    migrant_exodus: float = 0.35  # share of migrants away in the festival weeks


@dataclass(frozen=True)
class DriverParams:
    """Loadings of standardised population drivers on each family's log intensity."""

    #: driver -> {family: loading}; drivers are standardised (value - centre) / scale.
    loadings: dict[str, dict[str, float]] = field(default_factory=lambda: {
        "migrant_share": {"labour_wages": 0.35, "neighbour_rights": 0.10, "social_security": 0.10,
                          "private_lending": 0.10},
        "low_income": {"private_lending": 0.30, "social_security": 0.30, "marriage_family": 0.15,
                       "consumer_prices": 0.10},
        "unemployment": {"labour_wages": 0.35, "enterprise_restructuring": 0.40, "social_security": 0.25,
                         "private_lending": 0.15, "marriage_family": 0.10},
        "rental_share": {"neighbour_rights": 0.25, "consumer_prices": 0.15, "environment": 0.05},
        "elderly_share": {"medical": 0.30, "social_security": 0.20, "neighbour_rights": 0.05},
    })
    centres: dict[str, tuple[float, float]] = field(default_factory=lambda: {
        "migrant_share": (0.30, 0.20), "low_income": (0.04, 0.03), "unemployment": (0.05, 0.03),
        "rental_share": (0.30, 0.20), "elderly_share": (0.15, 0.06),
    })


@dataclass(frozen=True)
class PopulationParams:
    """Population of a community and how it changes week by week."""

    residents_median: float = 15_000.0  # DESIGN.md: 10,000-40,000 residents
    residents_sd_log: float = 0.45
    residents_min: int = 3_000
    residents_max: int = 60_000
    growth_sd_per_year: float = 0.03  # community trends of in/out migration
    migrant_inflow_per_year: float = 0.02  # mean growth of the migrant population
    ageing_per_year: float = 0.004  # elderly share drift
    closure_rate_per_week: float = 0.0004  # factory closures per community-week
    closure_jobs_median: float = 600.0
    closure_half_life_weeks: float = 26.0
    closure_tension: float = 0.8  # direct shock to labour_wages / enterprise_restructuring
    labour_force_share: float = 0.6
    household_size: float = 2.8


@dataclass(frozen=True)
class FeedbackParams:
    """Excitation and mediation feedback on the latent tension (log scale)."""

    # E[i, f] = decay * E + own escalations + neighbour weight * neighbours' mean escalations;
    # the log intensity rises by strength * log1p(E): a concave response, so excitation
    # cannot run away (an exponential response to counts would explode).
    self_excitation: float = 1.0  # weight of an escalation in the community and family last week
    neighbour_excitation: float = 0.6  # weight of an escalation in an average neighbour last week
    excitation_decay: float = 0.6  # per week
    excitation_strength: float = 0.5
    # Mediation feedback saturates, coefficient * (1 - exp(-count)): a linear or log
    # response to counts that grow with exp(x) would make the AR(1) explosive.
    agreement: float = -0.06  # at most, for last week's agreements
    failure: float = 0.10  # at most, for last week's failures
    backlog: float = 0.04  # at most, for open cases (scale backlog_scale)
    backlog_scale: float = 3.0
    max_log_intensity: float = 5.0  # safety cap: at most ~150 disputes of a family a week


@dataclass(frozen=True)
class EventParams:
    """How intensities become escalations and case outcomes."""

    petition_escalation_logit: float = -3.2  # share collective or cross-level ~4% at x=0
    petition_escalation_tension: float = 0.7
    collective_share: float = 0.6  # of escalating petitions, the collective ones
    fail_logit: float = -2.3  # mediation failures ~9% at x=0
    fail_tension: float = 0.8
    referred_share: float = 0.08
    close_hazard: dict[str, float] = field(default_factory=lambda: {
        "land_demolition": 0.25, "enterprise_restructuring": 0.3, "labour_wages": 0.45, "environment": 0.35,
    })
    default_close_hazard: float = 0.55
    serious_share: float = 0.06  # of mediation cases in non-serious families: >=5 parties or >=100k yuan
    screened_share: float = 0.4  # of mediation intensity found by dispute screening
    screened_mediated: float = 0.70  # Nantong: ~70% of screened disputes reach mediation


@dataclass(frozen=True)
class RecordingParams:
    """Late entry and corrections of the records."""

    entry_delay_probs: tuple[float, float, float, float] = (0.45, 0.35, 0.12, 0.08)  # 0 / 1-3 / 4-13 / 14-42 days
    misclassified: float = 0.04  # petitions first entered in the wrong category, corrected later
    mediation_entered_at_close: float = 0.5  # committees that file a case only when it is closed
    update_delay_max_days: int = 7


@dataclass(frozen=True)
class PolicyParams:
    """Major decisions and their effect on the affected communities and families."""

    rate_per_community_week: float = 0.0008
    lead_weeks: int = 26  # policies announced up to this long before the start still act
    max_areas: int = 8
    base_effect: dict[str, float] = field(default_factory=lambda: {
        "land_requisition": 0.6, "relocation": 0.7, "wage_pension": 0.45, "fees_prices": 0.35,
        "facility_siting": 0.5, "school_hospital_change": 0.35, "other": 0.25,
    })
    low_compensation: float = 0.8  # extra log effect per unit of compensation shortfall below 1
    no_hearing: float = 0.3
    effect_sd: float = 0.1


@dataclass(frozen=True)
class MessParams:
    """Dirt injected by --messy (CSV only); every injection is listed in the manifest."""

    encoding: str = "gb18030"
    date_formats: tuple[float, float, float] = (0.6, 0.25, 0.15)  # ISO, 2012/3/31, 2012年3月31日
    duplicate_rows: float = 0.01
    blank_optional: float = 0.02
    unknown_area: float = 0.002
    whitespace: float = 0.03


@dataclass(frozen=True)
class SimulationConfig:
    """One simulated city: its size, its calendar, its seed and every mechanism's parameters."""

    communities: int = 300
    weeks: int = 156
    start: dt.date = dt.date(2023, 1, 2)
    seed: int = 0
    messy: bool = False
    chunk_rows: int = 500_000  # rows buffered per file before a write: bounds memory
    tension: TensionParams = field(default_factory=TensionParams)
    rates: RateParams = field(default_factory=RateParams)
    season: SeasonParams = field(default_factory=SeasonParams)
    drivers: DriverParams = field(default_factory=DriverParams)
    population: PopulationParams = field(default_factory=PopulationParams)
    feedback: FeedbackParams = field(default_factory=FeedbackParams)
    events: EventParams = field(default_factory=EventParams)
    recording: RecordingParams = field(default_factory=RecordingParams)
    policies: PolicyParams = field(default_factory=PolicyParams)
    mess: MessParams = field(default_factory=MessParams)

    def __post_init__(self) -> None:
        if self.communities < 4:
            raise ValueError("a city needs at least 4 communities")
        if self.weeks < 1:
            raise ValueError("weeks must be positive")
        if self.start.weekday() != 0:
            raise ValueError(f"start must be a Monday, got {self.start} ({self.start:%A})")

    @property
    def end(self) -> dt.date:
        """The last day of the last simulated week."""
        return self.start + dt.timedelta(days=7 * self.weeks - 1)

    @property
    def export_on(self) -> dt.date:
        """The day after the last week: entries made from then on are not in the export (run.recorded_before)."""
        return self.end + dt.timedelta(days=1)

    def as_dict(self) -> dict[str, Any]:
        """Every parameter, JSON-ready, for the manifest."""
        out = asdict(self)
        out["start"] = self.start.isoformat()
        return out
