"""Request and response schemas of policy reviews, and their translation to models.policy.

Validation names the field at fault (``effective_on``, ``compensation_ratio``,
``areas.2``) so a reviewer can fix a proposal from the message alone; the
same models validate ``concord review PROPOSAL.json|yaml``.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from api.settings import Settings
from features.contracts import POLICY_TYPES
from models.policy.effects import EffectDesign
from models.policy.levels import LevelRule
from models.policy.pooled import PoolingParams
from models.policy.proposal import DIMENSIONS, MITIGATION_INPUTS, Mitigation, Proposal
from models.policy.review import ReviewParams

AreaId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.\-]+$", examples=["Q000017"])]
PolicyType = Literal[POLICY_TYPES]  # type: ignore[valid-type]
MitigationKind = Literal[tuple(MITIGATION_INPUTS)]  # type: ignore[valid-type]
Level = Literal["high", "medium", "low"]
EARLIEST, LATEST = dt.date(2000, 1, 1), dt.date(2100, 12, 31)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ConsultationIn(Strict):
    opposed_share: float | None = Field(None, ge=0, le=1, description="share of surveyed residents opposed, 0 to 1",
                                        examples=[0.35])
    respondents: int | None = Field(None, ge=0, le=10_000_000, examples=[420])
    objections: int | None = Field(None, ge=0, le=10_000_000, description="written objections received", examples=[12])


class MitigationIn(Strict):
    kind: MitigationKind = Field(description="hold_hearing, raise_compensation and phase_households change the "
                                             "inputs the history can price; the others are recorded", examples=["hold_hearing"])
    detail: str = Field("", max_length=2000, examples=["public hearing at the street office before the notice"])
    compensation_ratio: float | None = Field(None, ge=0, le=5, description="for raise_compensation: the new ratio")
    households_affected: int | None = Field(None, ge=0, le=10_000_000, description="for phase_households: the first phase")

    @model_validator(mode="after")
    def _needs_value(self) -> MitigationIn:
        if self.kind == "raise_compensation" and self.compensation_ratio is None:
            raise ValueError("raise_compensation needs compensation_ratio")
        if self.kind == "phase_households" and self.households_affected is None:
            raise ValueError("phase_households needs households_affected")
        return self


class JudgementIn(Strict):
    """The reviewer's own judgement per dimension: human input, stored verbatim, never computed."""

    legality: str | None = Field(None, max_length=4000, examples=["Requisition approved by the provincial government"])
    reasonableness: str | None = Field(None, max_length=4000)
    feasibility: str | None = Field(None, max_length=4000)
    controllability: str | None = Field(None, max_length=4000)


class ProposalIn(Strict):
    """A proposed major decision, as a reviewer files it."""

    title: str = Field(min_length=1, max_length=256, examples=["东区旧城改造房屋征收"])
    type: PolicyType = Field(examples=["relocation"])
    areas: list[AreaId] = Field(min_length=1, max_length=500, description="affected areas (any level)",
                                examples=[["Q000017", "Q000018"]])
    announce_on: dt.date = Field(examples=["2026-03-02"])
    effective_on: dt.date = Field(description="not before announce_on", examples=["2026-06-01"])
    households_affected: int | None = Field(None, ge=0, le=10_000_000, examples=[850])
    compensation_ratio: float | None = Field(None, ge=0, le=5, description="compensation / assessed value", examples=[0.9])
    hearing_held: bool | None = Field(None, description="a hearing was or will be held", examples=[False])
    consultation: ConsultationIn = Field(default_factory=ConsultationIn)
    mitigations: list[MitigationIn] = Field(default_factory=list, max_length=20)
    reviewer_judgement: JudgementIn = Field(default_factory=JudgementIn)

    @field_validator("areas")
    @classmethod
    def _unique(cls, areas: list[str]) -> list[str]:
        if len(set(areas)) != len(areas):
            raise ValueError("areas are listed more than once")
        return areas

    @field_validator("announce_on", "effective_on")
    @classmethod
    def _plausible(cls, day: dt.date) -> dt.date:
        if not EARLIEST <= day <= LATEST:
            raise ValueError(f"must lie between {EARLIEST} and {LATEST}")
        return day

    @field_validator("effective_on")
    @classmethod
    def _ordered(cls, day: dt.date, info: ValidationInfo) -> dt.date:
        announced = info.data.get("announce_on")
        if announced is not None and day < announced:
            raise ValueError(f"effective_on ({day}) is before announce_on ({announced})")
        return day


def to_proposal(body: ProposalIn) -> Proposal:
    return Proposal(
        title=body.title, policy_type=body.type, areas=tuple(body.areas), announce_on=body.announce_on,
        effective_on=body.effective_on, households_affected=body.households_affected,
        compensation_ratio=body.compensation_ratio, hearing_held=body.hearing_held,
        opposed_share=body.consultation.opposed_share, respondents=body.consultation.respondents,
        objections=body.consultation.objections,
        mitigations=tuple(Mitigation(kind=m.kind, detail=m.detail, compensation_ratio=m.compensation_ratio,
                                     households_affected=m.households_affected) for m in body.mitigations),
        judgement={name: getattr(body.reviewer_judgement, name) for name in DIMENSIONS},
    )


def review_params(settings: Settings) -> ReviewParams:
    """Settings.policy_review as the plain parameters models.policy takes."""
    s = settings.policy_review
    return ReviewParams(
        design=EffectDesign(pre_weeks=s.pre_weeks, weeks_after_effective=s.weeks_after_effective,
                            active_weeks_after_effective=s.active_weeks_after_effective,
                            controls_per_area=s.controls_per_area, placebos=s.placebos),
        pooling=PoolingParams(min_analogues=s.min_analogues, draws=s.bootstrap_draws),
        rule=LevelRule(high_multiplier=s.high_multiplier, medium_multiplier=s.medium_multiplier,
                       high_opposed=s.high_opposed, medium_opposed=s.medium_opposed),
        horizon_weeks_after_effective=s.horizon_weeks_after_effective, suppression_k=settings.suppression_k,
    )


# ---------------------------------------------------------------- responses


class Modifier(BaseModel):
    name: str = Field(examples=["no_hearing"])
    description: str
    coefficient: float = Field(description="change in log uplift per unit", examples=[0.31])
    lower: float
    upper: float


class UpliftOut(BaseModel):
    family: str = Field(examples=["land_demolition"])
    log_estimate: float | None = Field(description="log multiplier of disputes; null when no decision was ever assessed")
    log_lower: float
    log_upper: float
    multiplier: float | None = Field(examples=[1.8])
    multiplier_lower: float = Field(examples=[1.3])
    multiplier_upper: float = Field(examples=[2.6])
    analogues: int = Field(ge=0, description="past decisions of the type behind the estimate")
    evidence: Literal["type", "few", "other_types", "none"]
    relevant: bool = Field(description="the family enters the level rule")
    modifiers: list[Modifier]
    warnings: list[str]


class FamilyForecast(BaseModel):
    family: str
    baseline: float = Field(ge=0, description="expected disputes over the horizon without the decision", examples=[3.2])
    baseline_lower: float = Field(ge=0)
    baseline_upper: float = Field(ge=0)
    scenario: float = Field(ge=0, description="expected disputes with the decision", examples=[5.9])
    scenario_lower: float = Field(ge=0)
    scenario_upper: float = Field(ge=0)
    extra: float = Field(description="scenario - baseline", examples=[2.7])


class AreaForecast(BaseModel):
    area_id: str
    name: str
    families: list[FamilyForecast]


class Outcome(BaseModel):
    family: str
    estimate: float = Field(description="log multiplier this decision brought")
    lower: float
    upper: float
    exposed_pre: str = Field(description="disputes before, in the exposed areas ('<5' when fewer than k)", examples=["17"])
    exposed_post: str = Field(examples=["<5"])
    pre_weeks: int
    post_weeks: int


class ConsultationOut(BaseModel):
    opposed_share: float | None
    respondents: str | None = Field(description="counts below k are shown as '<k'", examples=["420"])
    objections: str | None = Field(examples=["<5"])


class MitigationFiled(BaseModel):
    kind: str
    detail: str
    compensation_ratio: float | None
    households_affected: str | None = Field(description="counts below k are shown as '<k'")


class ProposalOut(BaseModel):
    """The proposal as filed, for display: counts of households and people below k are shown as '<k'."""

    title: str
    type: str
    areas: list[str]
    announce_on: dt.date
    effective_on: dt.date
    households_affected: str | None = Field(examples=["850"])
    compensation_ratio: float | None
    hearing_held: bool | None
    consultation: ConsultationOut
    mitigations: list[MitigationFiled]
    reviewer_judgement: JudgementIn


class Analogue(BaseModel):
    policy_id: str = Field(examples=["POL000042"])
    similarity: float = Field(ge=0, le=1, examples=[0.72])
    announced_on: dt.date
    effective_on: dt.date
    households_affected: str | None = Field(description="counts below k are shown as '<k'", examples=["230"])
    compensation_ratio: float | None
    hearing_held: bool | None
    listed_areas: int
    exposed_areas: int
    area_ids: list[str] | None = Field(description="null when some of its areas lie outside your region")
    areas_note: str | None
    outcomes: list[Outcome]


class Priority(BaseModel):
    area_id: str
    name: str
    family: str
    extra_disputes: float = Field(examples=[2.4])
    action: str


class MitigationOut(BaseModel):
    kind: str
    detail: str
    priced: bool = Field(description="whether the records could price this mitigation")
    note: str


class HumanInput(BaseModel):
    judgement: str | None = Field(description="the reviewer's judgement, verbatim")
    source: Literal["reviewer"]
    note: str


class Finding(BaseModel):
    dimension: Literal["legality", "reasonableness", "feasibility", "controllability"]
    label: str
    from_records: list[str]
    human_input: HumanInput


class Horizon(BaseModel):
    start: dt.date
    weeks: int


class Totals(BaseModel):
    baseline: float
    scenario: float
    extra: float


class ReviewResult(BaseModel):
    method_version: str = Field(examples=["policy-review/1"])
    records_as_of: dt.date
    model_version: str | None = Field(description="the escalation model serving when the review ran, for the file")
    suppression_k: int = Field(ge=1, description="counts below this are shown as '<k'")
    horizon: Horizon
    level_before: Level
    level_after: Level
    level_reasons_before: list[str]
    level_reasons_after: list[str]
    level_rule: str = Field(description="the published rule that produced the levels")
    relevant_families: list[str]
    uplift: list[UpliftOut]
    uplift_after_mitigations: list[UpliftOut]
    forecasts: list[AreaForecast]
    totals: Totals
    analogues: list[Analogue]
    analogue_count: int
    decisions_assessed: int
    priorities: list[Priority]
    mitigations: list[MitigationOut]
    warnings: list[str]
    limits: list[str]
    findings: list[Finding]


class ReviewOut(BaseModel):
    review_id: str = Field(examples=["5f0c2a9e1b7d4c3a"])
    version: int = Field(ge=1, examples=[1])
    title: str
    policy_type: str
    region_id: str
    created_by: str
    created_at: dt.datetime
    level_before: Level
    level_after: Level
    proposal: ProposalOut
    result: ReviewResult
    report_html: str = Field(examples=["/v1/policy-reviews/5f0c2a9e1b7d4c3a/report.html?version=1"])
    report_pdf: str = Field(examples=["/v1/policy-reviews/5f0c2a9e1b7d4c3a/report.pdf?version=1"])


class ReviewSummary(BaseModel):
    review_id: str
    version: int
    title: str
    policy_type: str
    level_before: Level
    level_after: Level
    created_by: str
    created_at: dt.datetime


class ReviewList(BaseModel):
    items: list[ReviewSummary]
