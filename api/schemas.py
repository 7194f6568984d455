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


class AreaScore(BaseModel):
    area_id: str = Field(examples=["C0012"])
    name: str = Field(examples=["和平社区"])
    period_start: dt.date = Field(examples=["2025-12-29"])
    probability: float = Field(ge=0, le=1, description="probability of an escalation in the next period", examples=[0.21])
    level: Literal["high", "medium", "low"]
    reasons: list[Reason]
    expected_counts: dict[str, ExpectedCount] = Field(
        default_factory=dict, description="forecast petitions and mediation cases (total and by dispute family)")
    model_version: str = Field(examples=["v20251230-101500-3fa2"])


class Hotspot(AreaScore):
    rank: int = Field(ge=1)


class HotspotList(BaseModel):
    region_id: str
    period_start: dt.date
    model_version: str
    total: int = Field(description="areas scored in the region for the period")
    items: list[Hotspot]


class Health(BaseModel):
    status: Literal["ok"]


class Readiness(BaseModel):
    ready: bool
    database: bool
    serving_model: str | None
    detail: str
