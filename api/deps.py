"""Typed dependencies: handlers declare what they need and never reach for globals."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.engine import Connection, Engine

from api.off_loop import run_warm
from api.security import Permission, User, authenticate, hash_token, may
from api.settings import Settings

bearer = HTTPBearer(auto_error=False, description="a token from `concord users add`")


# Dependencies without I/O are ``async`` so they run on the event loop, not in a worker thread.
async def get_settings(request: Request) -> Settings:
    return request.app.state.settings


async def get_engine(request: Request) -> Engine:
    return request.app.state.engine


SettingsDep = Annotated[Settings, Depends(get_settings)]
EngineDep = Annotated[Engine, Depends(get_engine)]


def get_connection(engine: EngineDep) -> Iterator[Connection]:
    """One pooled connection per request, shared by authentication, the handler and its audit entry.

    FastAPI caches a dependency within a request, so everything that asks
    for it gets the same connection: one pool checkout (and one liveness
    ping) per request instead of one per step.
    """
    with engine.connect() as connection:
        yield connection


ConnectionDep = Annotated[Connection, Depends(get_connection)]


async def get_current_user(
    request: Request, engine: EngineDep, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> User:
    """The token's user; a known token is kept ``cache_seconds`` (docs/adr/0013), an unknown one is asked each time."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise HTTPException(401, "a bearer token is required", headers={"WWW-Authenticate": "Bearer"})
    token = credentials.credentials
    user = await run_warm(request.app.state.tokens.get, hash_token(token), lambda: _authenticate(engine, token))
    if user is None:
        raise HTTPException(401, "the token is unknown or revoked", headers={"WWW-Authenticate": "Bearer"})
    return user


def _authenticate(engine: Engine, token: str) -> User | None:
    with engine.connect() as connection:
        return authenticate(connection, token)


CurrentUser = Annotated[User, Depends(get_current_user)]


def permitted(permission: Permission):  # noqa: ANN201 - a FastAPI dependency factory
    """A dependency that yields the current user if their role grants ``permission``, else 403.

    A role without the right is told so (403): the route exists for everyone,
    so this discloses nothing about areas. Areas outside a user's region
    answer 404 in the handlers. A refusal is audited like any other outcome.
    """

    async def dependency(request: Request, engine: EngineDep, user: CurrentUser) -> User:
        if not may(user.role, permission):
            await request.app.state.trail.append(user, action=permission, resource=request.url.path, outcome="forbidden")
            raise HTTPException(403, f"the role {user.role!r} may not {permission.replace('_', ' ')}")
        return user

    return dependency


async def get_serving_version(request: Request, engine: EngineDep) -> str:
    version, problem = await run_warm(request.app.state.serving_check.serving, engine)
    if problem is not None:
        raise HTTPException(503, problem)
    return version


ServingVersion = Annotated[str, Depends(get_serving_version)]


async def reject_unknown_query(request: Request) -> None:
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
