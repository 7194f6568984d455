"""Recommended mediation focus: which dispute families a mediator should prepare for.

A flag is a request for services (principle 2), so each hotspot says where
the pressure comes from. Families named by the score's top reasons (those
that raised the probability) come first, then the families with the largest
forecast counts; a family with nothing expected and no reason is never
recommended.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from features.contracts import DISPUTE_FAMILIES


def _family_in(feature: str) -> str | None:
    return next((family for family in DISPUTE_FAMILIES if f"_{family}_" in f"_{feature}_"), None)


def family_expectations(expected_counts: Mapping[str, Mapping[str, float]]) -> dict[str, float]:
    """Forecast counts per family, summed over petitions and mediation (keys ``target:family``)."""
    totals: dict[str, float] = {}
    for key, value in expected_counts.items():
        _, _, family = key.partition(":")
        if family in DISPUTE_FAMILIES:
            totals[family] = totals.get(family, 0.0) + float(value.get("expected", 0.0))
    return totals


def mediation_focus(
    reasons: Sequence[Mapping[str, object]], expected_counts: Mapping[str, Mapping[str, float]], *, top: int = 3,
) -> list[dict]:
    expected = family_expectations(expected_counts)
    focus: dict[str, str] = {}
    for reason in reasons:
        family = _family_in(str(reason.get("feature", "")))
        contribution = reason.get("contribution")
        if family and family not in focus and (contribution is None or float(contribution) > 0):
            focus[family] = "named in the top reasons for this score"
    for family, value in sorted(expected.items(), key=lambda item: -item[1]):
        if len(focus) >= top:
            break
        if value > 0 and family not in focus:
            focus[family] = "among the largest forecast counts of new disputes"
    return [
        {"family": family, "name": DISPUTE_FAMILIES[family], "expected": round(expected[family], 3) if family in expected else None,
         "why": why}
        for family, why in list(focus.items())[:top]
    ]
