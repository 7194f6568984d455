"""Typed dependencies: handlers declare what they need and never reach for globals."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.engine import Engine

from api.security import User, authenticate
from api.settings import Settings
from models import registry

bearer = HTTPBearer(auto_error=False, description="a token from `concord users add`")


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_engine(request: Request) -> Engine:
    return request.app.state.engine


SettingsDep = Annotated[Settings, Depends(get_settings)]
EngineDep = Annotated[Engine, Depends(get_engine)]


def get_current_user(
    engine: EngineDep, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
) -> User:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise HTTPException(401, "a bearer token is required", headers={"WWW-Authenticate": "Bearer"})
    with engine.connect() as connection:
        user = authenticate(connection, credentials.credentials)
    if user is None:
        raise HTTPException(401, "the token is unknown or revoked", headers={"WWW-Authenticate": "Bearer"})
    return user


CurrentUser = Annotated[User, Depends(get_current_user)]


def get_serving_version(engine: EngineDep) -> str:
    model = registry.serving_version(engine)
    if model is None:
        raise HTTPException(503, "no model is serving yet; run `concord train` and `concord score`")
    return model.version


ServingVersion = Annotated[str, Depends(get_serving_version)]


def reject_unknown_query(request: Request) -> None:
    """Answer 422 for a query parameter the route does not take.

    A mistyped ``perod=`` would otherwise be ignored silently and an officer
    would read the latest period believing it was the one asked for.
    """
    route = request.scope.get("route")
    if route is None or not hasattr(route, "dependant"):
        return
    allowed = _allowed_query(route)
    unknown = sorted(set(request.query_params) - allowed)
    if unknown:
        from fastapi.exceptions import RequestValidationError

        raise RequestValidationError([
            {"loc": ("query", name), "msg": f"unknown parameter; this route takes: {', '.join(sorted(allowed)) or 'none'}",
             "type": "unknown_parameter"}
            for name in unknown
        ])


def _allowed_query(route) -> frozenset[str]:  # noqa: ANN001 - a starlette route, fixed for the app's life
    """Computed once per route and kept on it (routes compare by value, so they cannot key a cache)."""
    allowed = route.__dict__.get("_concord_query_names")
    if allowed is None:
        allowed = route.__dict__["_concord_query_names"] = frozenset(_query_aliases(route.dependant))
    return allowed


def _query_aliases(dependant) -> set[str]:  # noqa: ANN001 - fastapi.dependencies.models.Dependant
    """Every query parameter a route takes, through its nested dependencies."""
    names = {param.alias for param in dependant.query_params}
    for child in dependant.dependencies:
        names |= _query_aliases(child)
    return names
