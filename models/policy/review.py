"""A policy review from end to end: effects of the past, the proposal's uplift, forecasts, level, findings.

``assess`` is a plain function of the history, the per-decision effects
(estimated once per snapshot of the records, effects.py) and the
proposal; it returns a JSON-ready dict that the API stores as a review
version and the report renders. Counts of records in it are already
suppressed below k; forecasts are expected values and stay numeric.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from models.policy.analogues import analogues
from models.policy.effects import EffectDesign
from models.policy.findings import findings, shown
from models.policy.history import FAMILIES, History
from models.policy.levels import LevelInputs, LevelRule, assign_level
from models.policy.pooled import MODIFIER_TEXT, PoolingParams, Uplift, pool
from models.policy.proposal import INPUT_MODIFIER, MITIGATION_INPUTS, Proposal
from models.policy.scenario import ScenarioParams, forecast

METHOD_VERSION = "policy-review/1"
#: What mediators and information sessions should focus on, by dispute family.
FAMILY_ACTIONS = {
    "land_demolition": "compensation briefings and on-site mediators for requisition and demolition disputes",
    "rural_land": "mediators versed in land-contract disputes; publish the land adjustment plan",
    "neighbour_rights": "community mediators for neighbour disputes (noise, access, construction)",
    "labour_wages": "labour mediation and wage-guarantee checks with employers",
    "social_security": "information sessions on pension and social-security changes",
    "environment": "environmental information sessions and monitoring results in public",
    "medical": "patient-liaison mediators and information on the new service arrangements",
    "consumer_prices": "price hearings and explanation of the fee schedule",
}
DEFAULT_ACTION = "community mediators and an information session on the decision"


@dataclass(frozen=True)
class ReviewParams:
    """Every setting of a review; the API fills it from ``Settings.policy_review``."""

    design: EffectDesign = field(default_factory=EffectDesign)
    pooling: PoolingParams = field(default_factory=PoolingParams)
    scenario: ScenarioParams = field(default_factory=ScenarioParams)
    rule: LevelRule = field(default_factory=LevelRule)
    horizon_weeks_after_effective: int = 26
    suppression_k: int = 5
    priorities: int = 10
    relevant_fallback: int = 2


@dataclass(frozen=True)
class Context:
    """What is known about the records and models when the review runs."""

    as_of: dt.date
    model_version: str | None = None
    visible_areas: frozenset[str] | None = None  # None: everything (CLI on the operator's machine)
    area_names: dict[str, str] = field(default_factory=dict)


def relevant_families(uplifts: dict[str, Uplift], fallback: int) -> list[str]:
    """Families the type moved in the past (lower bound above 0); else the ``fallback`` most likely ones.

    "Most likely" ranks by the estimate relative to its interval's width, so
    one noisy analogue with a handful of disputes cannot pick the family.
    """
    rising = [f for f, u in uplifts.items() if u.lower > 0]
    if rising:
        return sorted(rising, key=lambda f: -(uplifts[f].estimate or 0.0))

    def strength(u: Uplift) -> float:
        return u.upper if u.estimate is None else u.estimate / max(u.upper - u.lower, 1e-9)

    return sorted(uplifts, key=lambda f: -strength(uplifts[f]))[:fallback]


def _uplift_rows(uplifts: dict[str, Uplift], families: list[str]) -> list[dict]:
    return [{
        "family": f, "log_estimate": u.estimate, "log_lower": u.lower, "log_upper": u.upper,
        "multiplier": None if u.estimate is None else float(np.exp(u.estimate)),
        "multiplier_lower": float(np.exp(u.lower)), "multiplier_upper": float(np.exp(u.upper)),
        "analogues": u.analogues, "evidence": u.evidence, "relevant": f in families,
        "modifiers": [{"name": n, "description": MODIFIER_TEXT[n], **v} for n, v in u.modifiers.items()],
        "warnings": u.warnings,
    } for f, u in uplifts.items()]


def _mitigation_rows(proposal: Proposal, uplifts: dict[str, Uplift], families: list[str]) -> list[dict]:
    supported = {n for f in families for n in uplifts[f].modifiers}
    rows = []
    for m in proposal.mitigations:
        field_name = MITIGATION_INPUTS.get(m.kind)
        modifier = INPUT_MODIFIER.get(field_name or "")
        if modifier is None:
            note = "effect not estimable from the records; it does not change the level"
        elif modifier in supported:
            note = f"priced through the history's estimate of '{MODIFIER_TEXT[modifier]}'"
        else:
            note = f"the history cannot yet estimate '{MODIFIER_TEXT[modifier]}' for this type; it does not change the level"
        rows.append({"kind": m.kind, "detail": m.detail, "priced": modifier in supported, "note": note})
    return rows


def _priorities(forecasts: pd.DataFrame, families: list[str], limit: int, names: dict[str, str]) -> list[dict]:
    cells = forecasts[forecasts["family"].isin(families)].sort_values("extra", ascending=False).head(limit)
    return [{"area_id": r.area_id, "name": names.get(r.area_id, r.area_id), "family": r.family,
             "extra_disputes": round(float(r.extra), 2), "action": FAMILY_ACTIONS.get(r.family, DEFAULT_ACTION)}
            for r in cells.itertuples()]


def _analogue_rows(history: History, effects: pd.DataFrame, proposal: Proposal, families: list[str],
                   context: Context, k: int) -> list[dict]:
    found = analogues(effects, policy_type=proposal.policy_type, families=families, proposal=proposal.frame(),
                      proposal_areas=len(proposal.areas))
    members = dict(zip(history.decisions["policy_id"], history.decisions["members"], strict=True))
    rows = []
    for row in found.to_dict("records"):
        ids = [str(history.area_ids[i]) for i in members.get(row["policy_id"], [])]
        visible = context.visible_areas is None or set(ids) <= context.visible_areas
        outcomes = [{**o, "exposed_pre": shown(o["exposed_pre"], k), "exposed_post": shown(o["exposed_post"], k)}
                    for o in row["outcomes"]]
        households = row["households_affected"]
        rows.append({**row, "outcomes": outcomes, "area_ids": ids if visible else None,
                     "households_affected": None if households is None else shown(households, k),
                     "areas_note": None if visible else "some areas lie outside your region; not listed"})
    return rows


def assess(history: History, effects: pd.DataFrame, proposal: Proposal, *, params: ReviewParams,
           context: Context) -> dict:
    """The full review of ``proposal`` as a JSON-ready dict."""
    positions = history.positions(list(proposal.areas))
    if len(positions) == 0:
        raise ValueError("none of the proposal's areas has records to forecast from")
    before = pool(effects, families=FAMILIES, policy_type=proposal.policy_type, proposal=proposal.frame(),
                  params=params.pooling)
    mitigated = proposal.mitigated()
    after = before if mitigated.frame().equals(proposal.frame()) else pool(
        effects, families=FAMILIES, policy_type=proposal.policy_type, proposal=mitigated.frame(), params=params.pooling)
    families = relevant_families(before, params.relevant_fallback)
    rule = params.rule
    level_before, why_before = assign_level(LevelInputs(
        {f: (before[f].estimate, before[f].lower, before[f].upper) for f in families}, proposal.opposed_share), rule)
    level_after, why_after = assign_level(LevelInputs(
        {f: (after[f].estimate, after[f].lower, after[f].upper) for f in families}, proposal.opposed_share), rule)
    start = pd.Timestamp(proposal.announce_on)
    weeks = max(1, (proposal.effective_on - proposal.announce_on).days // 7 + params.horizon_weeks_after_effective)
    frame = forecast(history, positions=positions, start=start, weeks=weeks, uplifts={f: before[f] for f in families},
                     params=params.scenario)
    shown_frame = frame
    warnings = sorted({w for f in families for w in before[f].warnings})
    forecasts = [{
        "area_id": area, "name": context.area_names.get(area, area),
        "families": [{k: (round(v, 3) if isinstance(v, float) else v) for k, v in row.items() if k != "area_id"}
                     for row in rows.to_dict("records")],
    } for area, rows in shown_frame.groupby("area_id", sort=True)]
    decisions = history.decisions
    result = {
        "method_version": METHOD_VERSION, "records_as_of": context.as_of.isoformat(), "model_version": context.model_version,
        "suppression_k": params.suppression_k,
        "horizon": {"start": start.date().isoformat(), "weeks": weeks},
        "level_before": level_before, "level_after": level_after,
        "level_reasons_before": why_before, "level_reasons_after": why_after, "level_rule": rule.text(),
        "relevant_families": families,
        "uplift": _uplift_rows(before, families), "uplift_after_mitigations": _uplift_rows(after, families),
        "forecasts": forecasts,
        "totals": {"baseline": round(float(shown_frame["baseline"].sum()), 2),
                   "scenario": round(float(shown_frame["scenario"].sum()), 2),
                   "extra": round(float(shown_frame["extra"].sum()), 2)},
        "analogues": _analogue_rows(history, effects, proposal, families, context, params.suppression_k),
        "analogue_count": int(effects.loc[effects["type"] == proposal.policy_type, "policy_id"].nunique()),
        "decisions_assessed": int(effects["policy_id"].nunique()) if len(effects) else 0,
        "priorities": _priorities(frame, families, params.priorities, context.area_names),
        "mitigations": _mitigation_rows(proposal, before, families),
        "warnings": warnings,
        "limits": limits(history, effects, params),
    }
    result["findings"] = findings(
        proposal=proposal, decisions=decisions, extra=shown_frame, baseline_total=float(shown_frame["baseline"].sum()),
        families=families, analogues=result["analogue_count"], warnings=warnings, k=params.suppression_k)
    return result


def limits(history: History, effects: pd.DataFrame, params: ReviewParams) -> list[str]:
    """The limits of the evidence, stated in every review."""
    d = params.design
    return [
        (f"Effects are estimated from {effects['policy_id'].nunique() if len(effects) else 0} of "
        f"{len(history.decisions)} recorded past decisions; the others overlapped other decisions, lay too close to "
        "the edge of the records, or had too few comparable areas."),
        (f"Each estimate compares the {d.pre_weeks} weeks before an announcement with the weeks from announcement to "
        f"{d.weeks_after_effective} weeks after it took effect, against matched areas no decision touched "
        "(difference in differences). It assumes those areas would have moved alike without the decision."),
        ("Recorded disputes are those that reached an office; a decision that changes how disputes are recorded "
        "(e.g. mediators placed on site) changes the counts as well as the disputes."),
        "Effects of mitigations other than hearings, compensation and phasing cannot be estimated from the records.",
        ("Forecasts are expected values for areas, never for people; record counts below "
        f"{params.suppression_k} are shown as '<{params.suppression_k}'."),
    ]
