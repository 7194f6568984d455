"""Response schemas of the monitoring API: runs of the scheduled jobs and the latest drift check."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, Field


class RunSummary(BaseModel):
    run_id: int = Field(examples=[42])
    job: Literal["retrain", "drift"]
    status: Literal["running", "succeeded", "failed", "crashed"] = Field(
        description="crashed: the process died; found by the next run", examples=["succeeded"])
    step: str = Field(description="the step reached (retrain: ingest, features, drift, compare, train, register, report, promote, done)",
                      examples=["done"])
    started_at: dt.datetime
    finished_at: dt.datetime | None = None
    exit_code: int | None = Field(None, description="the command's exit code (docs/monitoring.md)", examples=[0])
    triggered_by: str = Field(examples=["cli:concord"])
    headline: str = Field(description="one line: what the run decided or found",
                          examples=["kept the champion: average precision 0.0921 does not beat the champion's 0.0930 by the margin 0.005"])


class RunList(BaseModel):
    items: list[RunSummary]


class RunDetail(RunSummary):
    host: str = Field(examples=["scheduler-1"])
    pid: int = Field(examples=[31337])
    error: str | None = Field(None, examples=[None])
    summary: dict[str, Any] = Field(
        description="everything the run recorded: loaded batches, feature build, drift verdict, champion and "
                    "challenger figures, decision and reasons",
        examples=[{"decision": "promoted", "champion": "v20250106-020000-3fa2", "challenger": "v20250113-020000-9c1d",
                   "challenger_ap": 0.143, "champion_ap": 0.131, "challenger_ece": 0.011, "champion_ece": 0.012}])
    report_url: str | None = Field(None, description="the run's HTML report (retrain: comparison and drift; drift: Evidently)",
                                   examples=["/v1/monitoring/runs/42/report"])


class DriftColumn(BaseModel):
    column: str = Field(examples=["pop_migrants_share"])
    group: Literal["feature", "prediction", "label", "records"]
    method: str = Field(examples=["wasserstein_pooled"])
    score: float = Field(examples=[0.74])
    threshold: float = Field(examples=[0.1])
    drifted: bool


class DriftLatest(BaseModel):
    report_id: int = Field(examples=[7])
    run_id: int | None = Field(None, examples=[42])
    created_at: dt.datetime
    model_version: str | None = Field(None, examples=["v20250106-020000-3fa2"])
    reference: list[dt.date] = Field(description="first and last period of the reference window", examples=[["2024-01-01", "2024-03-25"]])
    current: list[dt.date] = Field(description="first and last period of the current window", examples=[["2025-01-06", "2025-01-27"]])
    seasonal_reference: bool = Field(description="the reference is the same season a year earlier")
    drift_detected: bool
    reasons: list[str] = Field(examples=[["new values in petitions.channel: online", "the serving model's predictions drifted"]])
    features_checked: int = Field(examples=[133])
    drifted_features: list[str] = Field(examples=[["pop_migrants_share", "pol_land_requisition_n_52w"]])
    new_values: dict[str, list[str]] = Field(examples=[{"petitions.category": ["wage_arrears"]}])
    stopped_reporting: list[str] = Field(description="areas of your region that reported regularly and have gone silent",
                                         examples=[["C0042"]])
    columns: list[DriftColumn]
    report_url: str | None = Field(None, examples=["/v1/monitoring/runs/42/report"])
