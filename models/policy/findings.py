"""Findings on the four dimensions of a stability review, where the records can speak.

Reviews are judged on legality (合法性), reasonableness (合理性),
feasibility (可行性) and controllability (可控性). The records can say how
this proposal compares with past decisions of its type and what followed
them; they cannot say whether it is lawful or fair. So each dimension
carries the findings drawn from records and, beside them and marked as
such, the reviewer's own judgement, copied verbatim and never computed.
"""

from __future__ import annotations

import pandas as pd

from models.policy.proposal import Proposal

LABELS = {"legality": "合法性 legality", "reasonableness": "合理性 reasonableness",
          "feasibility": "可行性 feasibility", "controllability": "可控性 controllability"}
HUMAN_NOTE = "entered by the reviewer; not derived from the records and not checked by Concord"


def shown(count: int | None, k: int) -> str:
    """A count as a person may see it: below k it is '<k' (DESIGN.md principle 3)."""
    if count is None:
        return "not given"
    return f"<{k}" if count < k else str(count)


def shown_proposal(proposal: dict, k: int) -> dict:
    """A filed proposal (as stored JSON) for display: its counts of households and people below k as '<k'."""
    def count(value: int | None) -> str | None:
        return None if value is None else shown(int(value), k)

    consultation = dict(proposal.get("consultation") or {})
    for name in ("respondents", "objections"):
        consultation[name] = count(consultation.get(name))
    return {**proposal, "households_affected": count(proposal.get("households_affected")), "consultation": consultation,
            "mitigations": [{**m, "households_affected": count(m.get("households_affected"))}
                            for m in proposal.get("mitigations") or []]}


def _share(values: pd.Series) -> float | None:
    values = values.dropna()
    return float(values.astype(bool).mean()) if len(values) else None


def findings(*, proposal: Proposal, decisions: pd.DataFrame, extra: pd.DataFrame, baseline_total: float,
             families: list[str], analogues: int, warnings: list[str], k: int) -> list[dict]:
    """Four entries: the dimension, findings from records, and the reviewer's judgement as human input."""
    same = decisions[decisions["type"] == proposal.policy_type]
    hearing_share = _share(same["hearing_held"])
    legality = [
        "hearing: " + {True: "held or planned", False: "not planned", None: "not stated"}[proposal.hearing_held]
        + (f"; {hearing_share:.0%} of {len(same)} past decisions of this type held one" if hearing_share is not None else ""),
        "the records cannot judge legality; the reviewer's judgement below is the finding on this dimension",
    ]
    reasonableness = []
    ratios = same["compensation_ratio"].dropna()
    if proposal.compensation_ratio is not None and len(ratios):
        below = float((ratios < proposal.compensation_ratio).mean())
        reasonableness.append(f"compensation ratio {proposal.compensation_ratio:.2f}: higher than {below:.0%} of past "
                              f"decisions of this type (median {ratios.median():.2f})")
    households = same["households_affected"].dropna()
    if proposal.households_affected is not None and len(households):
        larger = float((households < proposal.households_affected).mean())
        reasonableness.append(f"households affected {proposal.households_affected}: more than in {larger:.0%} of past "
                              f"decisions of this type")
    if not reasonableness:
        reasonableness.append("no past decision of this type records compensation or households to compare with")
    lead = (proposal.effective_on - proposal.announce_on).days / 7
    past_lead = ((pd.to_datetime(same["effective_on"]) - pd.to_datetime(same["announced_on"])).dt.days / 7)
    feasibility = [f"announcement to effect: {lead:.0f} weeks" + (
        f" (past decisions of this type: median {past_lead.median():.0f} weeks)" if len(past_lead) else "")]
    feasibility.append(f"expected disputes in the affected areas over the horizon without the decision: {baseline_total:.1f}")
    total_extra = float(extra["extra"].sum()) if len(extra) else 0.0
    controllability = [
        (f"expected extra disputes with the decision: {total_extra:.1f} in the families it moved in the past "
        f"({', '.join(families) if families else 'none identified'})"),
        f"evidence: {analogues} past decision(s) of this type could be assessed",
    ]
    if proposal.opposed_share is not None:
        controllability.append(f"consultation: {proposal.opposed_share:.0%} opposed among "
                               f"{shown(proposal.respondents, k)} respondents")
    if proposal.objections is not None:
        controllability.append(f"objections received: {shown(proposal.objections, k)}")
    controllability.extend(f"warning: {w}" for w in warnings)
    found = {"legality": legality, "reasonableness": reasonableness, "feasibility": feasibility,
             "controllability": controllability}
    return [{
        "dimension": name, "label": LABELS[name], "from_records": found[name],
        "human_input": {"judgement": proposal.judgement.get(name), "source": "reviewer", "note": HUMAN_NOTE},
    } for name in LABELS]

