"""The published risk-level rule of a policy review: high / medium / low, before and after mitigations.

The national rules name three levels by how residents react -- high: most
affected residents object strongly and large collective incidents are
possible; medium: some object strongly and conflicts are possible; low:
most support and a few objections can be managed. Concord reads two kinds
of evidence for that: what similar past decisions did to disputes (the
uplift, a multiplier on disputes of a family in the affected areas) and
the consultation results the reviewer enters (the share opposed in a
survey). The rule, in full, is ``RULE_TEXT``; the cut-offs are settings
(``policy_review``), published in every response and in ADR 0010.

The rule never reads a wide interval as reassurance: a decision whose
upper bound reaches the high multiplier is at least medium, so thin
evidence cannot produce "low".
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

LEVEL_ORDER = ("low", "medium", "high")


@dataclass(frozen=True)
class LevelRule:
    """Cut-offs of the rule (multipliers of a family's disputes; shares of residents opposed)."""

    high_multiplier: float = 2.0
    medium_multiplier: float = 1.25
    high_opposed: float = 0.5
    medium_opposed: float = 0.2

    def text(self) -> str:
        return (
            f"HIGH if the survey share opposed is at least {self.high_opposed:.0%}, or the lower bound of the 90% "
            f"interval of the uplift of some dispute family is at least x{self.high_multiplier:g} (disputes "
            f"confidently at least {self.high_multiplier:g} times the baseline). "
            f"MEDIUM, if not high, when the share opposed is at least {self.medium_opposed:.0%}, or the estimated "
            f"uplift of some family is at least x{self.medium_multiplier:g}, or the upper bound of some family's "
            f"interval reaches x{self.high_multiplier:g} (a doubling cannot be ruled out). LOW otherwise. "
            "Families count when the decision's type moved them in the past (see the uplift table); "
            "the level after mitigations applies the same rule to the mitigated inputs."
        )


@dataclass(frozen=True)
class LevelInputs:
    """What the rule reads: per-family log uplift (estimate, lower, upper) and the survey share opposed."""

    uplifts: dict[str, tuple[float | None, float, float]]
    opposed_share: float | None


def assign_level(inputs: LevelInputs, rule: LevelRule) -> tuple[str, list[str]]:
    """The level and the clauses of the rule that decided it, in words."""
    reasons_high, reasons_medium = [], []
    share = inputs.opposed_share
    if share is not None and share >= rule.high_opposed:
        reasons_high.append(f"survey: {share:.0%} opposed (at least {rule.high_opposed:.0%})")
    elif share is not None and share >= rule.medium_opposed:
        reasons_medium.append(f"survey: {share:.0%} opposed (at least {rule.medium_opposed:.0%})")
    for family, (estimate, lower, upper) in inputs.uplifts.items():
        if np.exp(lower) >= rule.high_multiplier:
            reasons_high.append(f"{family}: disputes at least x{np.exp(lower):.2f} (lower bound)")
        elif estimate is not None and np.exp(estimate) >= rule.medium_multiplier:
            reasons_medium.append(f"{family}: estimated uplift x{np.exp(estimate):.2f}")
        elif np.exp(upper) >= rule.high_multiplier:
            reasons_medium.append(f"{family}: a rise to x{np.exp(upper):.2f} cannot be ruled out (upper bound)")
    if reasons_high:
        return "high", reasons_high
    if reasons_medium:
        return "medium", reasons_medium
    return "low", ["no clause of the rule for medium or high applies"]
