"""A proposed decision as the estimators read it, and the mitigations that change its inputs.

The API and CLI validate a filed proposal (api/review_schemas.py) and hand
this plain dataclass down, so the estimators never see HTTP or YAML.
Mitigations that change an input the history can price -- holding a
hearing, raising compensation, phasing the households affected -- are
applied to a copy of the proposal; the others (information sessions,
mediators on site...) are kept and reported as not estimable from records.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace

import pandas as pd

#: Mitigation kinds and the proposal input each changes (None: no input the records can price).
MITIGATION_INPUTS: dict[str, str | None] = {
    "hold_hearing": "hearing_held",
    "raise_compensation": "compensation_ratio",
    "phase_households": "households_affected",
    "information_sessions": None,
    "mediators_on_site": None,
    "grievance_channel": None,
    "other": None,
}
#: Which modifier of pooled.py each input feeds.
INPUT_MODIFIER = {"hearing_held": "no_hearing", "compensation_ratio": "compensation_shortfall",
                  "households_affected": "log_households"}
DIMENSIONS = ("legality", "reasonableness", "feasibility", "controllability")


@dataclass(frozen=True)
class Mitigation:
    kind: str
    detail: str = ""
    compensation_ratio: float | None = None
    households_affected: int | None = None


@dataclass(frozen=True)
class Proposal:
    """Everything a reviewer files about a proposed decision."""

    title: str
    policy_type: str
    areas: tuple[str, ...]
    announce_on: dt.date
    effective_on: dt.date
    households_affected: int | None = None
    compensation_ratio: float | None = None
    hearing_held: bool | None = None
    opposed_share: float | None = None
    respondents: int | None = None
    objections: int | None = None
    mitigations: tuple[Mitigation, ...] = ()
    judgement: dict[str, str | None] = field(default_factory=dict)  # human input per dimension

    def frame(self) -> pd.DataFrame:
        """One row with the columns the modifiers are read from."""
        return pd.DataFrame([{"households_affected": self.households_affected,
                              "compensation_ratio": self.compensation_ratio, "hearing_held": self.hearing_held}])

    def mitigated(self) -> Proposal:
        """The proposal with every priced mitigation applied."""
        out = self
        for m in self.mitigations:
            if m.kind == "hold_hearing":
                out = replace(out, hearing_held=True)
            elif m.kind == "raise_compensation" and m.compensation_ratio is not None:
                out = replace(out, compensation_ratio=max(m.compensation_ratio, out.compensation_ratio or 0.0))
            elif m.kind == "phase_households" and m.households_affected is not None:
                out = replace(out, households_affected=m.households_affected)
        return out
