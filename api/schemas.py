"""Response schemas: what the API promises, separate from tables and frames."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, Field


class Reason(BaseModel):
    feature: str = Field(examples=["petitions_total_4"])
    description: str = Field(examples=["Petitions received in the last 4 weeks"])
    standing: float = Field(description="how far above the typical area of the period, in robust spread units", examples=[2.4])


class AreaScore(BaseModel):
    area_id: str = Field(examples=["C0012"])
    name: str = Field(examples=["和平社区"])
    period_start: dt.date = Field(examples=["2025-12-29"])
    probability: float = Field(ge=0, le=1, description="probability of an escalation in the next period", examples=[0.21])
    level: Literal["high", "medium", "low"]
    reasons: list[Reason]
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
