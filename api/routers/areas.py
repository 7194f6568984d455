"""An area's profile and history: who it is, what the model said, what happened, what was done."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query
from fastapi.exceptions import RequestValidationError

from api import audit
from api.area_query import area_history, area_profile
from api.deps import EngineDep, SettingsDep, permitted, reject_unknown_query
from api.problems import problem_responses
from api.routers.scores import AreaId
from api.schemas import AreaHistory, AreaProfile
from api.scores_query import NotFound, latest_scored_period
from api.security import User
from models import registry

router = APIRouter(prefix="/v1", tags=["areas"], dependencies=[Depends(reject_unknown_query)])
ERRORS = problem_responses(401, 403, 404, 422, 503)
Reader = Annotated[User, Depends(permitted("read_scores"))]
MAX_HISTORY_DAYS = 5 * 366
EARLIEST, LATEST = dt.date(1949, 1, 1), dt.date(2199, 12, 31)  # records outside these are data errors


@router.get("/areas/{area_id}", response_model=AreaProfile, responses=ERRORS, summary="An area: name, hierarchy, population")
def read_area(engine: EngineDep, settings: SettingsDep, user: Reader, area_id: AreaId) -> AreaProfile:
    resource = f"/v1/areas/{area_id}"
    try:
        with engine.connect() as connection:
            profile = area_profile(connection, region_id=user.region_id, area_id=area_id, k=settings.suppression_k)
    except NotFound as exc:
        audit.record_by(engine, user, action="read_area", resource=resource, area_ids=[area_id], outcome="not_found")
        raise HTTPException(404, str(exc)) from exc
    audit.record_by(engine, user, action="read_area", resource=resource, area_ids=[area_id], outcome="ok")
    return AreaProfile(**profile)


@router.get("/areas/{area_id}/history", response_model=AreaHistory, responses=ERRORS,
            summary="Scores, observed counts, flags and the actions taken, period by period")
def read_history(
    engine: EngineDep, settings: SettingsDep, user: Reader, area_id: AreaId,
    from_: Annotated[dt.date | None, Query(alias="from", description="first period (ISO date); default: 26 periods before `to`")] = None,
    to: Annotated[dt.date | None, Query(description="last period (ISO date); default: the latest scored period, else today")] = None,
) -> AreaHistory:
    for name, day in (("from", from_), ("to", to)):
        if day is not None and not EARLIEST <= day <= LATEST:
            raise RequestValidationError([{"loc": ("query", name), "msg": f"must lie between {EARLIEST} and {LATEST}", "type": "value_error"}])
    serving = registry.serving_version(engine)
    if to is None and serving is not None:
        with engine.connect() as connection:
            to = latest_scored_period(connection, model_version=serving.version)
    last = to or dt.date.today()
    first = from_ or last - dt.timedelta(days=26 * (7 if settings.period == "week" else 31))
    if first > last:
        raise RequestValidationError([{"loc": ("query", "from"), "msg": f"must not be after `to` ({last})", "type": "value_error"}])
    if (last - first).days > MAX_HISTORY_DAYS:
        raise RequestValidationError([{"loc": ("query", "from"), "msg": "the range may span at most five years", "type": "value_error"}])
    resource = f"/v1/areas/{area_id}/history?from={first}&to={last}"
    try:
        with engine.connect() as connection:
            history = area_history(
                connection, region_id=user.region_id, area_id=area_id, first=first, last=last,
                serving_version=None if serving is None else serving.version, period=settings.period,
                week_start=settings.week_start, k=settings.suppression_k,
            )
    except NotFound as exc:
        audit.record_by(engine, user, action="read_history", resource=resource, area_ids=[area_id], outcome="not_found")
        raise HTTPException(404, str(exc)) from exc
    audit.record_by(engine, user, action="read_history", resource=resource, area_ids=[area_id], outcome="ok")
    return AreaHistory(**history)
