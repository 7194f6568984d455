"""Liveness and readiness, for load balancers and schedulers."""

from __future__ import annotations

import sqlalchemy as sa
from fastapi import APIRouter
from fastapi.responses import JSONResponse

from api.deps import EngineDep
from api.schemas import Health, Readiness
from models import registry

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=Health, summary="The process is alive")
def healthz() -> Health:
    return Health(status="ok")


@router.get("/readyz", response_model=Readiness, summary="Database reachable and a model serving",
            responses={503: {"model": Readiness}})
def readyz(engine: EngineDep) -> JSONResponse:
    try:
        with engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))
        serving = registry.serving_version(engine)
    except sa.exc.OperationalError:
        body = Readiness(ready=False, database=False, serving_model=None, detail="the database is not reachable")
        return JSONResponse(body.model_dump(), status_code=503)
    if serving is None:
        body = Readiness(ready=False, database=True, serving_model=None, detail="no model is serving yet")
        return JSONResponse(body.model_dump(), status_code=503)
    body = Readiness(ready=True, database=True, serving_model=serving.version, detail="ready")
    return JSONResponse(body.model_dump())
