"""Response schemas: what the API promises, separate from tables and frames."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, Field


class Reason(BaseModel):
    feature: str = Field(examples=["med_labour_wages_n_13w"])
    description: str = Field(examples=["Mediation cases of dispute type labour_wages opened in the last 13 week(s)."])
    standing: float = Field(description="how far above the typical area of the period, in robust spread units", examples=[2.4])
    contribution: float | None = Field(None, description="change in probability this feature makes for this area", examples=[0.041])
    text: str | None = Field(None, description="the reason in words; counts below k are shown as '<k'",
                             examples=["Mediation cases opened in the last 13 weeks: 61 (typical area <5); raises the probability by 4.1 points"])


class ExpectedCount(BaseModel):
    expected: float = Field(ge=0, examples=[2.3])
    lower: float = Field(ge=0, description="lower bound of the 90% interval", examples=[0.0])
    upper: float = Field(ge=0, description="upper bound of the 90% interval", examples=[6.0])
    window: int = Field(ge=1, description="periods ahead the count covers", examples=[1])


class Focus(BaseModel):
    """A dispute family a mediator should prepare for, and why."""

    family: str = Field(examples=["labour_wages"])
    name: str = Field(description="the family's name in the source vocabulary", examples=["劳资"])
    expected: float | None = Field(None, ge=0, description="forecast petitions and mediation cases of the family next period",
                                   examples=[1.4])
    why: str = Field(examples=["named in the top reasons; the largest expected share of new disputes"])


class AreaScore(BaseModel):
    area_id: str = Field(examples=["C0012"])
    name: str = Field(examples=["和平社区"])
    period_start: dt.date = Field(examples=["2025-12-29"])
    probability: float = Field(ge=0, le=1, description="probability of an escalation in the next period", examples=[0.21])
    level: Literal["high", "medium", "low"]
    reasons: list[Reason]
    expected_counts: dict[str, ExpectedCount] = Field(
        default_factory=dict, description="forecast petitions and mediation cases (total and by dispute family)")
    focus: list[Focus] = Field(default_factory=list, description="recommended mediation focus: the dispute families driving the score")
    model_version: str = Field(examples=["v20251230-101500-3fa2"])


class Hotspot(AreaScore):
    rank: int = Field(ge=1)


class HotspotList(BaseModel):
    region_id: str
    period_start: dt.date
    model_version: str
    level: Literal["high", "medium", "low"] | None = Field(None, description="the level filter applied, if any")
    total: int = Field(description="areas scored in the region for the period (after the level filter)")
    offset: int = Field(ge=0, description="position of the first item in the ranking")
    next_offset: int | None = Field(None, description="offset of the next page; null on the last page")
    items: list[Hotspot]


SuppressedCount = int | str
SUPPRESSED = "an integer, or '<k' when fewer than k (small-count suppression)"


class AreaRef(BaseModel):
    area_id: str = Field(examples=["D1"])
    name: str = Field(examples=["第1区"])
    level: str = Field(examples=["district"])


class PopulationSummary(BaseModel):
    period_start: dt.date
    residents: SuppressedCount | None = Field(None, description=SUPPRESSED, examples=[12400])
    registered: SuppressedCount | None = Field(None, description=SUPPRESSED, examples=[9100])
    migrants: SuppressedCount | None = Field(None, description=SUPPRESSED, examples=[3300])
    low_income_households: SuppressedCount | None = Field(None, description=SUPPRESSED, examples=["<5"])
    unemployed: SuppressedCount | None = Field(None, description=SUPPRESSED, examples=[140])
    elderly_share: float | None = Field(None, ge=0, le=1, examples=[0.18])
    rental_share: float | None = Field(None, ge=0, le=1, examples=[0.27])


class AreaProfile(BaseModel):
    area_id: str = Field(examples=["C0012"])
    name: str = Field(examples=["和平社区"])
    level: str = Field(examples=["community"])
    parent_id: str | None = Field(None, examples=["S003"])
    ancestors: list[AreaRef] = Field(description="from the root down to the parent")
    children: int = Field(ge=0, description="areas directly under this one")
    population: PopulationSummary | None = Field(None, description="the latest population record")


ACTIONS = ("mediator_dispatched", "meeting_held", "information_session", "services_offered", "referred", "no_action")
OUTCOMES = ("resolved", "partly_resolved", "not_resolved", "escalated", "unknown")
ActionName = Literal["mediator_dispatched", "meeting_held", "information_session", "services_offered", "referred", "no_action"]
OutcomeName = Literal["resolved", "partly_resolved", "not_resolved", "escalated", "unknown"]
NOTE = Field(None, max_length=2000, description=(
    "what was done or why nothing was; about the area, never about a person: "
    "ID-card and phone numbers are refused"), examples=["Mediator met the wage-arrears group at the site office"])


class ActionIn(BaseModel):
    """An action taken on a flag."""

    model_config = {"extra": "forbid"}
    kind: Literal["action"]
    action: ActionName
    note: str | None = NOTE


class OutcomeIn(BaseModel):
    """What came of an earlier action (its ``action_id`` in ``follows``)."""

    model_config = {"extra": "forbid"}
    kind: Literal["outcome"]
    follows: int = Field(ge=1, le=2**31 - 1, description="the action_id this outcome reports on", examples=[17])
    outcome: OutcomeName
    note: str | None = NOTE


class FlagAction(BaseModel):
    action_id: int
    area_id: str
    period_start: dt.date
    kind: Literal["action", "outcome"]
    action: ActionName | None = None
    outcome: OutcomeName | None = None
    follows: int | None = None
    note: str | None = None
    model_version: str | None = None
    recorded_by: str
    recorded_at: dt.datetime


class Observed(BaseModel):
    petitions: SuppressedCount = Field(description=SUPPRESSED)
    collective_petitions: SuppressedCount = Field(description=SUPPRESSED)
    cross_level_petitions: SuppressedCount = Field(description=SUPPRESSED)
    mediation_cases: SuppressedCount = Field(description=SUPPRESSED)
    failed_mediations: SuppressedCount = Field(description=SUPPRESSED)


class HistoryItem(BaseModel):
    period_start: dt.date
    probability: float | None = Field(None, ge=0, le=1)
    level: Literal["high", "medium", "low"] | None = None
    flagged: bool = Field(description="the area was flagged (level high) for this period")
    model_version: str | None = None
    observed: Observed = Field(description="records of the period as now known (counts by when they happened)")
    actions: list[FlagAction]


class AreaHistory(BaseModel):
    area_id: str
    name: str
    from_period: dt.date
    to_period: dt.date
    items: list[HistoryItem]


class ModelSummary(BaseModel):
    version: str = Field(examples=["v20251230-101500-3fa2"])
    created_at: dt.datetime
    serving: bool
    training_window: list[str] = Field(default_factory=list, examples=[["2023-01-02", "2025-12-22"]])
    average_precision: float | None = Field(None, description="holdout average precision")
    baseline_average_precision: float | None = None
    gates_passed: bool | None = Field(None, description="null when the version has no recorded backtest")


class ModelDetail(ModelSummary):
    sha256: str
    manifest: dict
    gate_reasons: list[str] = Field(default_factory=list)
    card_url: str = Field(description="the model card as HTML", examples=["/v1/models/v20251230-101500-3fa2/card"])


class UploadError(BaseModel):
    row: int | None = Field(None, description="spreadsheet row for CSV (header is row 1); for JSON lines, `line` says where")
    line: int | None = Field(None, description="line of a JSON-lines body")
    column: str | None = None
    reason: str
    value: str | None = None


class UploadReport(BaseModel):
    kind: str = Field(examples=["petitions"])
    batch_id: int | None
    rows_in: int
    added: int
    corrected: int
    unchanged: int
    already_loaded: bool
    summary: str


class Health(BaseModel):
    status: Literal["ok"]


class Readiness(BaseModel):
    ready: bool
    database: bool
    serving_model: str | None
    detail: str
