"""One error shape for every failure: RFC 9457 problem details, no stack traces or SQL."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger("concord.api")
PROBLEM_JSON = "application/problem+json"


class Problem(BaseModel):
    """RFC 9457 problem details."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str
    errors: list[dict] | None = None


def problem(status: int, title: str, detail: str, errors: list[dict] | None = None, headers: dict | None = None) -> JSONResponse:
    body = Problem(title=title, status=status, detail=detail, errors=errors).model_dump(exclude_none=True)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def install(app: FastAPI) -> None:
    @app.exception_handler(StarletteHTTPException)
    async def http_problem(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        title = {400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed", 409: "Conflict",
                 413: "Payload Too Large", 415: "Unsupported Media Type", 503: "Service Unavailable"}.get(exc.status_code, "Error")
        return problem(exc.status_code, title, str(exc.detail), headers=getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def validation_problem(_request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"field": ".".join(str(part) for part in error["loc"]), "message": error["msg"]}
            for error in exc.errors()
        ]
        detail = "; ".join(f"{error['field']}: {error['message']}" for error in errors)
        return problem(422, "Invalid request", detail, errors=errors)

    @app.exception_handler(OperationalError)
    async def database_down(_request: Request, exc: OperationalError) -> JSONResponse:
        log.warning("database unavailable: %s", exc.__class__.__name__)
        return problem(503, "Service Unavailable", "the database is not reachable; try again shortly",
                       headers={"Retry-After": "5"})

    @app.exception_handler(Exception)
    async def unexpected(_request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error")
        return problem(500, "Internal Server Error", "an unexpected error occurred; it has been logged")


PROBLEM_DESCRIPTIONS = {
    400: "the body could not be parsed (not UTF-8 or not JSON)",
    401: "missing, unknown or revoked token",
    403: "your role may not do this",
    404: "not found (or outside your region, which answers the same)",
    409: "the request conflicts with what is stored",
    413: "the body is larger than the configured limit",
    415: "the body's Content-Type is not one this route reads",
    422: "a parameter or the body is invalid; `errors` names each field",
    503: "the database is down or no model is serving",
}


def problem_responses(*codes: int) -> dict[int | str, dict]:
    """OpenAPI entries for error responses, documented as problem+json."""
    schema = {"$ref": "#/components/schemas/Problem"}
    return {
        code: {"model": Problem, "description": PROBLEM_DESCRIPTIONS[code],
               "content": {PROBLEM_JSON: {"schema": schema}}}
        for code in codes
    }
