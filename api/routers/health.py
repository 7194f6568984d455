"""Liveness and readiness, for load balancers and schedulers."""

from __future__ import annotations

import sqlalchemy as sa
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from api.deps import EngineDep
from api.schemas import Health, Readiness

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=Health, summary="The process is alive")
def healthz() -> Health:
    return Health(status="ok")


@router.get("/readyz", response_model=Readiness, summary="Database reachable and a model serving",
            responses={503: {"model": Readiness}})
def readyz(request: Request, engine: EngineDep) -> JSONResponse:
    try:
        with engine.connect() as connection:
            version, problem = request.app.state.serving_check.problem(connection)
    except sa.exc.OperationalError:
        body = Readiness(ready=False, database=False, serving_model=None, detail="the database is not reachable")
        return JSONResponse(body.model_dump(), status_code=503)
    if problem is not None:
        body = Readiness(ready=False, database=True, serving_model=version, detail=problem)
        return JSONResponse(body.model_dump(), status_code=503)
    body = Readiness(ready=True, database=True, serving_model=version, detail="ready")
    return JSONResponse(body.model_dump())
