"""The feature catalogue: the single source of the feature list.

Every feature the pipelines compute is declared here once, with its family,
window, one-sentence definition, the record fields it reads and the machine
recipe (``key``) the family module follows. The pipelines compute exactly the
catalogue entries whose inputs are present, the models take the catalogue
order, ``concord features list`` prints it and ``docs/features.md`` is
generated from it. Windows are counted in periods, so one template yields a
week catalogue (windows 1, 4, 13, 52) and a month one (1, 3, 6, 12).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cache
from typing import Literal

from features.contracts import DISPUTE_FAMILIES, POLICY_TYPES

Period = Literal["week", "month"]

#: Window sizes in periods: (last period, short, medium, year).
WINDOWS: dict[str, dict[str, int]] = {
    "week": {"1": 1, "S": 4, "M": 13, "Y": 52},
    "month": {"1": 1, "S": 3, "M": 6, "Y": 12},
}
FAMILIES = tuple(DISPUTE_FAMILIES) + ("other",)


@dataclass(frozen=True)
class FeatureSpec:
    """One feature: what it is, what it reads, and when it may be missing.

    ``missing`` is empty when the value is never NaN; otherwise it says when it
    is (the only NaNs a panel may hold). ``key`` is the recipe for the family
    module: not for people, but it keeps the list and the code in one place.
    """

    name: str
    family: str
    window: int | None
    definition: str
    reads: tuple[str, ...]
    missing: str = ""
    key: tuple = ()

    @property
    def kinds(self) -> tuple[str, ...]:
        """Input tables that must hold data for the feature to exist."""
        return tuple(sorted({field.split(".")[0] for field in self.reads}))


def _suffix(period: Period, n: int) -> str:
    return f"{n}{'w' if period == 'week' else 'm'}"


def _templates(period: Period) -> list[FeatureSpec]:
    w = WINDOWS[period]
    unit = period
    out: list[FeatureSpec] = []

    def add(name: str, family: str, window: int | None, definition: str, reads: tuple[str, ...],
            missing: str = "", key: tuple = ()) -> None:
        out.append(FeatureSpec(name, family, window, definition, reads, missing, key))

    pet, med = ("petitions.area_id", "petitions.received_on"), ("mediation.area_id", "mediation.opened_on")
    no_pop = "missing when no population count is known for the area in the last year"
    # counts
    for k in ("1", "S", "M", "Y"):
        n = w[k]
        add(f"pet_total_n_{_suffix(period, n)}", "counts", n,
            f"Petitions received in the last {n} {unit}(s) and recorded before the period starts.", pet,
            key=("count", "pet", "total", n, 0))
    for fam in FAMILIES:
        for k in ("S", "M"):
            n = w[k]
            what = "a category outside the survey's families" if fam == "other" else f"the {fam} family"
            add(f"pet_{fam}_n_{_suffix(period, n)}", "counts", n,
                f"Petitions of {what} received in the last {n} {unit}(s).", pet + ("petitions.category",),
                key=("count", "pet", f"fam:{fam}", n, 0))
    for k in ("1", "S", "M", "Y"):
        n = w[k]
        add(f"med_total_n_{_suffix(period, n)}", "counts", n,
            f"Mediation cases opened in the last {n} {unit}(s) and recorded before the period starts.", med,
            key=("count", "med", "total", n, 0))
    for fam in FAMILIES:
        n = w["M"]
        add(f"med_{fam}_n_{_suffix(period, n)}", "counts", n,
            f"Mediation cases of dispute type {fam} opened in the last {n} {unit}(s).",
            med + ("mediation.dispute_type",), key=("count", "med", f"fam:{fam}", n, 0))
    # rates per 1,000 residents
    pop = ("population.residents",)
    for src, ks, reads in (("pet", ("1", "S", "M", "Y"), pet), ("med", ("S", "M", "Y"), med)):
        for k in ks:
            n = w[k]
            add(f"{src}_total_rate_{_suffix(period, n)}", "rates", n,
                f"{'Petitions' if src == 'pet' else 'Mediation cases'} in the last {n} {unit}(s) per 1,000 residents.",
                reads + pop, no_pop, key=("rate", f"{src}_total_n_{_suffix(period, n)}"))
    for fam in FAMILIES:
        n = w["M"]
        add(f"pet_{fam}_rate_{_suffix(period, n)}", "rates", n,
            f"Petitions of family {fam} in the last {n} {unit}(s) per 1,000 residents.",
            pet + ("petitions.category",) + pop, no_pop, key=("rate", f"pet_{fam}_n_{_suffix(period, n)}"))
    _escalation(add, period, w)
    _derived(add, period, w)
    return out


def _escalation(add, period: Period, w: dict[str, int]) -> None:  # noqa: ANN001 - local adder
    # Failed serious mediations join the count when mediation cases are loaded;
    # petitions alone already carry two of the three routes, so they suffice.
    esc = ("petitions.area_id", "petitions.received_on", "petitions.people", "petitions.level_reached")
    for k in ("1", "S", "M", "Y"):
        n = w[k]
        add(f"esc_n_{_suffix(period, n)}", "escalation", n,
            f"Escalations (collective or cross-level petitions, and failed serious mediations when mediation "
            f"cases are loaded) in the last {n} {period}(s), as known before the period starts.",
            esc, key=("esc", n))
    n = w["M"]
    for route, reads, what in (
        ("collective", ("petitions.people",), "Collective petitions (5 or more people)"),
        ("crosslevel", ("petitions.level_reached",), "Cross-level petitions (taken above the county)"),
    ):
        add(f"esc_{route}_n_{_suffix(period, n)}", "escalation", n, f"{what} in the last {n} {period}(s).",
            ("petitions.area_id", "petitions.received_on") + reads, key=("count", "pet", f"flag:{route}", n, 0))
    add(f"esc_failed_serious_n_{_suffix(period, n)}", "escalation", n,
        f"Failed mediations of serious disputes, dated by closing, in the last {n} {period}(s).",
        ("mediation.area_id", "mediation.opened_on", "mediation.outcome", "mediation.dispute_type"),
        key=("count", "med", "flag:failed_serious", n, 0, "fail"))


def _derived(add, period: Period, w: dict[str, int]) -> None:  # noqa: ANN001 - local adder
    S, M, Y = w["S"], w["M"], w["Y"]
    sf = lambda n: _suffix(period, n)  # noqa: E731
    short_history = "missing until the panel has a year of history"
    for src, reads, noun in (("pet", ("petitions.area_id", "petitions.received_on"), "petitions"),
                             ("med", ("mediation.area_id", "mediation.opened_on"), "mediation cases"),
                             ("esc", ("petitions.people", "petitions.level_reached"), "escalations")):
        base = "esc" if src == "esc" else f"{src}_total"
        add(f"{base}_trend_{sf(S)}", "trend", S,
            f"Mean {noun} per {period} over the last {S} minus the mean over the last {Y}.", reads, short_history,
            key=("trend", src, S))
        add(f"{base}_surprise_{sf(S)}", "trend", S,
            f"Poisson z-score of the last {S} {period}s' {noun} against the area's rate over the rest of its last year.",
            reads, short_history, key=("surprise", src, S))
        add(f"{base}_yoy_{sf(M)}", "trend", M,
            f"{noun.capitalize()} in the last {M} {period}s minus the same {M} {period}s a year earlier.",
            reads, short_history, key=("yoy", src, M))
    p_reads = ("petitions.area_id", "petitions.received_on")
    none_in = "missing when the area has no {} in the window"
    add(f"pet_closed_share_{sf(M)}", "resolution", M, f"Share of the last {M} {period}s' petitions closed before the period starts.",
        p_reads + ("petitions.closed_on",), none_in.format("petitions"), key=("share", "pet", "closed", M))
    add(f"pet_satisfied_share_{sf(Y)}", "resolution", Y, f"Share of satisfied among rated petitions of the last {Y} {period}s.",
        p_reads + ("petitions.satisfied",), none_in.format("rated petitions"), key=("share", "pet", "satisfied", Y, "rated"))
    add(f"pet_open_backlog_{sf(Y)}", "resolution", Y, f"Petitions received in the last {Y} {period}s still open when the period starts.",
        p_reads + ("petitions.closed_on",), key=("backlog", "pet", Y))
    m_reads = ("mediation.area_id", "mediation.opened_on", "mediation.outcome")
    for what in ("agreement", "failed"):
        add(f"med_{what}_share_{sf(Y)}", "resolution", Y,
            f"Share of {what} among decided mediation cases (agreement, failed, referred) of the last {Y} {period}s.",
            m_reads, none_in.format("decided cases"), key=("share", "med", what, Y, "decided"))
    add(f"med_open_backlog_{sf(Y)}", "resolution", Y, f"Mediation cases opened in the last {Y} {period}s still open when the period starts.",
        ("mediation.area_id", "mediation.opened_on", "mediation.closed_on"), key=("backlog", "med", Y))
    add(f"med_serious_open_backlog_{sf(Y)}", "resolution", Y,
        f"Serious disputes (serious family, 5+ parties or 100,000+ yuan) opened in the last {Y} {period}s and still "
        "in mediation when the period starts, as far as recorded (a committee that files cases only when they close "
        "is not seen).",
        ("mediation.area_id", "mediation.opened_on", "mediation.closed_on", "mediation.dispute_type"),
        key=("backlog", "med", Y, "flag:serious"))
    for n in (M, Y):
        for flag, field, what in (("repeat", "is_repeat", "repeat"), ("collective", "people", "collective (5+ people)"),
                                  ("crosslevel", "level_reached", "cross-level")):
            add(f"pet_{flag}_share_{sf(n)}", "shares", n, f"Share of {what} petitions among the last {n} {period}s' petitions.",
                p_reads + (f"petitions.{field}",), none_in.format("petitions"), key=("share", "pet", flag, n))
    _population(add, period, Y)
    _context(add, period, w)


def _population(add, period: Period, Y: int) -> None:  # noqa: ANN001 - local adder
    stale = f"missing when no population count for the area is known from the last {Y} {period}s"
    add("pop_residents", "population", None, "Residents in the latest population count known before the period.",
        ("population.residents",), stale, key=("pop", "residents"))
    for col, what in (("registered", "registered (户籍) residents"), ("migrants", "migrants (流动人口)")):
        add(f"pop_{col}_share", "population", None, f"Share of {what} among residents.",
            ("population.residents", f"population.{col}"), stale, key=("pop_share", col))
    for col in ("elderly_share", "rental_share"):
        add(f"pop_{col}", "population", None, f"The latest known {col.replace('_', ' ')}.",
            (f"population.{col}",), stale, key=("pop", col))
    for col in ("low_income_households", "unemployed"):
        add(f"pop_{col}_per_1000", "population", None, f"{col.replace('_', ' ').capitalize()} per 1,000 residents.",
            ("population.residents", f"population.{col}"), stale, key=("pop_per_1000", col))
    add(f"pop_residents_change_{_suffix(period, Y)}", "population", Y, f"Relative change in residents over the last {Y} {period}s.",
        ("population.residents",), stale + " or a year before", key=("pop_change", Y))


def _context(add, period: Period, w: dict[str, int]) -> None:  # noqa: ANN001 - local adder
    S, M, Y = w["S"], w["M"], w["Y"]
    sf = lambda n: _suffix(period, n)  # noqa: E731
    for scope, reads, miss, who in (("nbr", ("adjacency.neighbor_id",), "missing when the area has no neighbours", "adjacent areas"),
                                    ("par", ("areas.parent_id",), "missing when the area has no sibling under its parent", "other areas under the same parent")):
        esc_reads = ("petitions.people", "petitions.level_reached")
        for base, src_reads in ((f"pet_total_n_{sf(S)}", ("petitions.received_on",)), (f"pet_total_n_{sf(M)}", ("petitions.received_on",)),
                                (f"med_total_n_{sf(M)}", ("mediation.opened_on",)), (f"esc_n_{sf(1)}", esc_reads),
                                (f"esc_n_{sf(S)}", esc_reads), (f"esc_n_{sf(M)}", esc_reads)):
            add(f"{scope}_{base}", "spatial", int(base.rsplit("_", 1)[1][:-1]),
                f"Mean of {base} over the {who}.", reads + src_reads, miss, key=(scope, base))
    what = "week of the year (ISO)" if period == "week" else "month of the year"
    add("season_period_of_year", "seasonality", None, f"The {what} of the period start.", (), key=("season", "period_of_year"))
    add("season_month", "seasonality", None, "Calendar month of the period start.", (), key=("season", "month"))
    add("season_days_to_spring_festival", "seasonality", None, "Days from the period start to the next Spring Festival.",
        (), key=("season", "spring_festival"))
    p_reads = ("policies.announced_on", "policy_areas.area_id")
    add(f"pol_n_{sf(Y)}", "policy", Y, f"Policies affecting the area announced in the last {Y} {period}s.", p_reads, key=("pol_n", None, Y))
    for kind in POLICY_TYPES:
        add(f"pol_{kind}_n_{sf(Y)}", "policy", Y, f"Policies of type {kind} affecting the area announced in the last {Y} {period}s.",
            p_reads + ("policies.type",), key=("pol_n", kind, Y))
    add(f"pol_households_{sf(Y)}", "policy", Y, f"Households affected by the policies of the last {Y} {period}s (unknown counts as 0).",
        p_reads + ("policies.households_affected",), key=("pol_households", Y))
    add(f"pol_no_hearing_n_{sf(Y)}", "policy", Y, f"Policies of the last {Y} {period}s adopted without a hearing.",
        p_reads + ("policies.hearing_held",), key=("pol_no_hearing", Y))
    add("pol_pending_n", "policy", None, "Policies announced but not yet in effect when the period starts.",
        p_reads + ("policies.effective_on",), key=("pol_pending",))
    A = Y // 2  # half a year: how long after taking effect a policy still counts as in force
    in_force = f"policies in force when the period starts (announced, and at most {A} {period}s past taking effect)"
    for variant, extra, what in ((None, (), f"P{in_force[1:]}."),
                                 ("shortfall", ("policies.compensation_ratio",),
                                  f"Compensation shortfall, max(0, 1 - compensation ratio), summed over the {in_force} "
                                  "(unknown ratios count as 0)."),
                                 ("no_hearing", ("policies.hearing_held",), f"P{in_force[1:]}, adopted without a hearing."),
                                 ("households", ("policies.households_affected",),
                                  f"Households affected by the {in_force} (unknown counts as 0).")):
        add("pol_in_force_n" if variant is None else f"pol_in_force_{variant}" + ("_n" if variant == "no_hearing" else ""),
            "policy", A, what, p_reads + ("policies.effective_on",) + extra, key=("pol_in_force", variant, A))
    for event in ("announced", "effective"):
        add(f"pol_periods_since_{event}", "policy", None, f"{period.capitalize()}s since the latest policy affecting the area was {event}.",
            (f"policies.{event}_on", "policy_areas.area_id"), f"missing when no policy was {event} before the period",
            key=("pol_since", event))
    o_reads = ("mediation.area_id", "mediation.opened_on", "mediation.origin")
    for origin in ("screened", "reported"):
        for n in (S, M):
            add(f"med_{origin}_n_{sf(n)}", "origin", n, f"Mediation cases of origin {origin} opened in the last {n} {period}s.",
                o_reads, key=("count", "med", f"flag:{origin}", n, 0))
    add(f"med_screened_share_{sf(M)}", "origin", M, f"Share screened among the last {M} {period}s' cases with a known origin.",
        o_reads, "missing when no case of the window has a known origin", key=("share", "med", "screened", M, "origin_known"))


@cache
def catalogue(period: Period = "week") -> tuple[FeatureSpec, ...]:
    """Every feature for ``period`` panels, in the order models and docs use."""
    specs = tuple(_templates(period))
    names = [spec.name for spec in specs]
    if len(set(names)) != len(names):
        raise AssertionError("duplicate feature names in the catalogue")
    return specs


def catalogue_hash(period: Period = "week") -> str:
    """Fingerprint of the catalogue, stored with every build (a change forces a full rebuild)."""
    text = "\n".join(f"{s.name}|{s.family}|{s.window}|{s.definition}|{','.join(s.reads)}|{s.key}" for s in catalogue(period))
    return hashlib.sha256(text.encode()).hexdigest()


def history_span(period: Period = "week") -> int:
    """Periods of event history a feature at t may read: the longest window plus its lag.

    The year-on-year features reach furthest (a medium window, a year back);
    incremental builds read only records whose events fall inside this span.
    """
    w = WINDOWS[period]
    return w["Y"] + w["M"]


@cache
def window_edges(period: Period = "week") -> tuple[int, ...]:
    """How many periods after its event a version enters (lag + 1) or leaves (lag + window + 1) a count's window,
    for every window the features count over and both lags they use (none, and a year for year-on-year).

    Between two periods a count moves only by the versions with an edge there (or recorded, superseded or
    closed there): the incremental build reads just those and adds their difference to the last build's
    counts (``FeatureContext.count``, docs/adr/0014 decision 12), and refuses a count whose edges are not here.
    """
    w = WINDOWS[period]
    year_back = {spec.key[2] for spec in catalogue(period) if spec.key[0] == "yoy"}  # windows counted a year back
    spans = {(0, size) for size in w.values()} | {(w["Y"], size) for size in year_back}
    return tuple(sorted({lag + size + 1 for lag, size in spans} | {lag + 1 for lag, _ in spans}))


def definitions(period: Period = "week") -> dict[str, str]:
    """Feature name → its one-sentence definition, for reasons a person reads."""
    return {spec.name: spec.definition for spec in catalogue(period)}


def by_name(period: Period = "week") -> dict[str, FeatureSpec]:
    return {spec.name: spec for spec in catalogue(period)}
