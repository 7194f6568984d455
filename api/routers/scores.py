"""Hotspots and area scores: what a risk officer reads each week.

These two routes are the service's hot paths: they are answered from memory
on the event loop (``run_warm``; docs/adr/0013) and only go to a worker thread
when something must be read from the database.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request, Response
from sqlalchemy.engine import Engine
from starlette.datastructures import State

from api.deps import EngineDep, ServingVersion, permitted, reject_unknown_query
from api.off_loop import run_warm
from api.problems import problem_responses
from api.schemas import AreaScore, HotspotList
from api.scores_query import NotFound
from api.security import User

router = APIRouter(prefix="/v1", tags=["scores"], dependencies=[Depends(reject_unknown_query)])
ERRORS = problem_responses(401, 403, 404, 422, 503)
Reader = Annotated[User, Depends(permitted("read_scores"))]
PeriodQuery = Annotated[dt.date | None, Query(description="start of the period (ISO date); default: the latest scored")]
AreaId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.\-]+$", examples=["C0012"])]


@router.get("/hotspots", response_model=HotspotList, responses=ERRORS, summary="Ranked areas of a region for a period")
async def read_hotspots(
    request: Request, engine: EngineDep, user: Reader, model_version: ServingVersion, period: PeriodQuery = None,
    limit: Annotated[int, Query(ge=1, le=500, description="how many areas to return (one page)")] = 20,
    offset: Annotated[int, Query(ge=0, le=1_000_000, description="skip this many areas of the ranking (the next page's `next_offset`)")] = 0,
    level: Annotated[Literal["high", "medium", "low"] | None, Query(description="only areas of this level")] = None,
    region: Annotated[str | None, Query(min_length=1, max_length=64, description="an area_id within your region; default: your region")] = None,
) -> Response:
    region_id = region or user.region_id
    resource = f"/v1/hotspots?region={region_id}&period={period}&limit={limit}&offset={offset}&level={level}"
    try:
        body, page = await run_warm(_hotspots, request.app.state, engine, user=user, model_version=model_version,
                                    period=period, region=region, limit=limit, offset=offset, level=level)
    except NotFound as exc:
        await request.app.state.trail.append(user, action="read_hotspots", resource=resource, outcome="not_found")
        raise HTTPException(404, str(exc)) from exc
    await request.app.state.trail.append(user, action="read_hotspots", resource=resource, area_ids=page, outcome="ok")
    request.app.state.metrics.scores_served.inc(len(page))
    return Response(body, media_type="application/json")


def _hotspots(
    state: State, engine: Engine, *, user: User, model_version: str, period: dt.date | None, region: str | None,
    limit: int, offset: int, level: str | None,
) -> tuple[bytes, tuple[str, ...]]:
    """The page as JSON and the areas on it; reads only until the first ``io_point`` (``run_warm``)."""
    region_id = region or user.region_id
    if region is not None and not state.lineages.within(engine, region_id=user.region_id, area_id=region):
        raise NotFound(f"no area {region!r} in your region")
    scored = state.score_index.period_scores(engine, model_version=model_version, period=period)
    return state.score_index.hotspots_page(engine, scored, lineages=state.lineages, region_id=region_id, level=level,
                                           offset=offset, limit=limit)


@router.get("/areas/{area_id}/score", response_model=AreaScore, responses=ERRORS, summary="One area's score for a period")
async def read_area_score(
    request: Request, engine: EngineDep, user: Reader, model_version: ServingVersion, area_id: AreaId,
    period: PeriodQuery = None,
) -> Response:
    resource = f"/v1/areas/{area_id}/score?period={period}"
    try:
        body = await run_warm(_area_score, request.app.state, engine, user=user, model_version=model_version,
                              area_id=area_id, period=period)
    except NotFound as exc:
        await request.app.state.trail.append(user, action="read_score", resource=resource, area_ids=[area_id],
                                             outcome="not_found")
        raise HTTPException(404, str(exc)) from exc
    await request.app.state.trail.append(user, action="read_score", resource=resource, area_ids=[area_id], outcome="ok")
    request.app.state.metrics.scores_served.inc()
    return Response(body, media_type="application/json")


def _area_score(
    state: State, engine: Engine, *, user: User, model_version: str, area_id: str, period: dt.date | None,
) -> bytes:
    """The area's score as JSON; reads only until the first ``io_point`` (``run_warm``)."""
    scored = state.score_index.period_scores(engine, model_version=model_version, period=period)
    stamp = scored.stamps.get(area_id) if state.lineages.within(engine, region_id=user.region_id, area_id=area_id) else None
    if stamp is None:
        # Same answer whether the area does not exist or lies outside the region,
        # so a region's boundaries do not leak.
        raise NotFound(f"no area {area_id!r} with a score for {scored.period.isoformat()} in your region")
    return state.score_cache.rendered(engine, model_version=model_version, period=scored.period,
                                      stamped=[(area_id, stamp)])[area_id]
