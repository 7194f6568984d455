"""What a risk officer did about a flag, and later what came of it."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Body, Depends, HTTPException, Path
from fastapi.exceptions import RequestValidationError

from api import audit
from api.deps import EngineDep, SettingsDep, permitted, reject_unknown_query
from api.flags import InvalidAction, check_period, record_action
from api.problems import problem_responses
from api.routers.scores import AreaId
from api.schemas import ActionIn, FlagAction, OutcomeIn
from api.scores_query import NotFound
from api.security import User

router = APIRouter(prefix="/v1", tags=["flags"], dependencies=[Depends(reject_unknown_query)])
Actor = Annotated[User, Depends(permitted("record_actions"))]
ActionBody = Annotated[ActionIn | OutcomeIn, Body(discriminator="kind", openapi_examples={
    "action": {"summary": "a mediator was sent", "value": {"kind": "action", "action": "mediator_dispatched",
                                                             "note": "Mediator met the wage-arrears group at the site office"}},
    "outcome": {"summary": "what came of it", "value": {"kind": "outcome", "follows": 17, "outcome": "resolved"}},
    "no_action": {"summary": "nothing done, and why", "value": {"kind": "action", "action": "no_action",
                                                                 "note": "Already covered by the street's weekly screening"}},
})]


@router.post("/flags/{area_id}/{period}/actions", response_model=FlagAction, status_code=201,
             responses=problem_responses(400, 401, 403, 404, 413, 422, 503), summary="Record an action on a flag, or its outcome")
def post_action(
    engine: EngineDep, settings: SettingsDep, user: Actor, area_id: AreaId,
    period: Annotated[dt.date, Path(description="start of the flagged period (ISO date)", examples=["2025-12-29"])],
    body: ActionBody,
) -> FlagAction:
    resource = f"/v1/flags/{area_id}/{period}/actions"
    try:
        check_period(period, period_kind=settings.period, week_start=settings.week_start)
        with engine.begin() as connection:
            row = record_action(connection, region_id=user.region_id, area_id=area_id, period=period,
                                body=body.model_dump(), recorded_by=user.name)
    except NotFound as exc:
        audit.record_by(engine, user, action="record_action", resource=resource, area_ids=[area_id], outcome="not_found")
        raise HTTPException(404, str(exc)) from exc
    except InvalidAction as exc:
        audit.record_by(engine, user, action="record_action", resource=resource, area_ids=[area_id],
                     outcome="invalid", detail=str(exc))
        raise RequestValidationError([{"loc": exc.field, "msg": str(exc), "type": "value_error"}]) from exc
    audit.record_by(engine, user, action="record_action", resource=resource, area_ids=[area_id],
                 outcome="ok", detail=f"action {row['action_id']}: {row['kind']} {row['action'] or row['outcome']}")
    return FlagAction(**row)
