"""Hotspots and area scores: what a risk officer reads each week."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, Query

from api import audit
from api.deps import CurrentUser, EngineDep, ServingVersion, reject_unknown_query
from api.problems import problem_responses
from api.regions import within
from api.schemas import AreaScore, HotspotList
from api.scores_query import NotFound, area_score, hotspots, scored_period

router = APIRouter(prefix="/v1", tags=["scores"], dependencies=[Depends(reject_unknown_query)])
ERRORS = problem_responses(401, 404, 422, 503)
PeriodQuery = Annotated[dt.date | None, Query(description="start of the period (ISO date); default: the latest scored")]
AreaId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.\-]+$", examples=["C0012"])]


@router.get("/hotspots", response_model=HotspotList, responses=ERRORS, summary="Ranked areas of a region for a period")
def read_hotspots(
    engine: EngineDep, user: CurrentUser, model_version: ServingVersion, period: PeriodQuery = None,
    limit: Annotated[int, Query(ge=1, le=500, description="how many areas to return")] = 20,
    region: Annotated[str | None, Query(min_length=1, max_length=64, description="an area_id within your region; default: your region")] = None,
) -> HotspotList:
    region_id = region or user.region_id
    resource = f"/v1/hotspots?region={region_id}&period={period}&limit={limit}"
    try:
        with engine.connect() as connection:
            if region is not None and not within(connection, region_id=user.region_id, area_id=region):
                raise NotFound(f"no area {region!r} in your region")
            start = scored_period(connection, model_version=model_version, period=period)
            total, items = hotspots(connection, region_id=region_id, model_version=model_version, period=start, limit=limit)
    except NotFound as exc:
        audit.record(engine, actor=user.name, role=user.role, action="read_hotspots", resource=resource, outcome="not_found")
        raise HTTPException(404, str(exc)) from exc
    audit.record(engine, actor=user.name, role=user.role, action="read_hotspots", resource=resource,
                 area_ids=[item["area_id"] for item in items], outcome="ok")
    return HotspotList(region_id=region_id, period_start=start, model_version=model_version, total=total, items=items)


@router.get("/areas/{area_id}/score", response_model=AreaScore, responses=ERRORS, summary="One area's score for a period")
def read_area_score(
    engine: EngineDep, user: CurrentUser, model_version: ServingVersion, area_id: AreaId, period: PeriodQuery = None,
) -> AreaScore:
    resource = f"/v1/areas/{area_id}/score?period={period}"
    try:
        with engine.connect() as connection:
            start = scored_period(connection, model_version=model_version, period=period)
            row = area_score(connection, region_id=user.region_id, area_id=area_id, model_version=model_version, period=start)
    except NotFound as exc:
        audit.record(engine, actor=user.name, role=user.role, action="read_score", resource=resource,
                     area_ids=[area_id], outcome="not_found")
        raise HTTPException(404, str(exc)) from exc
    audit.record(engine, actor=user.name, role=user.role, action="read_score", resource=resource, area_ids=[area_id], outcome="ok")
    return AreaScore(**row)
