"""Hotspots and area scores: what a risk officer reads each week."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request, Response

from api import audit
from api.deps import ConnectionDep, ServingVersion, permitted, reject_unknown_query
from api.problems import problem_responses
from api.schemas import AreaScore, HotspotList
from api.score_render import envelope, with_rank
from api.scores_query import NotFound, area_stamp, ranked_page, scored_period
from api.security import User

router = APIRouter(prefix="/v1", tags=["scores"], dependencies=[Depends(reject_unknown_query)])
ERRORS = problem_responses(401, 403, 404, 422, 503)
Reader = Annotated[User, Depends(permitted("read_scores"))]
PeriodQuery = Annotated[dt.date | None, Query(description="start of the period (ISO date); default: the latest scored")]
AreaId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.\-]+$", examples=["C0012"])]


@router.get("/hotspots", response_model=HotspotList, responses=ERRORS, summary="Ranked areas of a region for a period")
def read_hotspots(
    request: Request, connection: ConnectionDep, user: Reader, model_version: ServingVersion, period: PeriodQuery = None,
    limit: Annotated[int, Query(ge=1, le=500, description="how many areas to return (one page)")] = 20,
    offset: Annotated[int, Query(ge=0, le=1_000_000, description="skip this many areas of the ranking (the next page's `next_offset`)")] = 0,
    level: Annotated[Literal["high", "medium", "low"] | None, Query(description="only areas of this level")] = None,
    region: Annotated[str | None, Query(min_length=1, max_length=64, description="an area_id within your region; default: your region")] = None,
) -> Response:
    region_id = region or user.region_id
    resource = f"/v1/hotspots?region={region_id}&period={period}&limit={limit}&offset={offset}&level={level}"
    try:
        lineages = request.app.state.lineages
        if region is not None and not lineages.within(connection, region_id=user.region_id, area_id=region):
            raise NotFound(f"no area {region!r} in your region")
        start = scored_period(connection, model_version=model_version, period=period)
        total, page = ranked_page(connection, lineages=lineages, region_id=region_id, model_version=model_version, period=start,
                                  limit=limit, offset=offset, level=level)
        rendered = request.app.state.score_cache.rendered(connection, model_version=model_version, period=start, stamped=page)
    except NotFound as exc:
        audit.append_and_commit(connection, user, action="read_hotspots", resource=resource, area_ids=[], outcome="not_found")
        raise HTTPException(404, str(exc)) from exc
    audit.append_and_commit(connection, user, action="read_hotspots", resource=resource, area_ids=[a for a, _ in page], outcome="ok")
    request.app.state.metrics.scores_served.inc(len(page))
    next_offset = offset + len(page) if offset + len(page) < total else None
    fields = {"region_id": region_id, "period_start": start.isoformat(), "model_version": model_version, "level": level,
              "total": total, "offset": offset, "next_offset": next_offset}
    items = [with_rank(rendered[area_id], rank) for rank, (area_id, _) in enumerate(page, start=offset + 1)]
    return Response(envelope(fields, items), media_type="application/json")


@router.get("/areas/{area_id}/score", response_model=AreaScore, responses=ERRORS, summary="One area's score for a period")
def read_area_score(
    request: Request, connection: ConnectionDep, user: Reader, model_version: ServingVersion, area_id: AreaId,
    period: PeriodQuery = None,
) -> Response:
    resource = f"/v1/areas/{area_id}/score?period={period}"
    try:
        start = scored_period(connection, model_version=model_version, period=period)
        stamp = area_stamp(connection, lineages=request.app.state.lineages, region_id=user.region_id, area_id=area_id, model_version=model_version, period=start)
        blob = request.app.state.score_cache.rendered(connection, model_version=model_version, period=start,
                                                      stamped=[(area_id, stamp)])[area_id]
    except NotFound as exc:
        audit.append_and_commit(connection, user, action="read_score", resource=resource, area_ids=[area_id], outcome="not_found")
        raise HTTPException(404, str(exc)) from exc
    audit.append_and_commit(connection, user, action="read_score", resource=resource, area_ids=[area_id], outcome="ok")
    request.app.state.metrics.scores_served.inc()
    return Response(blob, media_type="application/json")
