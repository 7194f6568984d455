"""The HTTP service: built by a factory from settings, with no work at import."""

from __future__ import annotations

from fastapi import FastAPI, Request, Response
from sqlalchemy.engine import Engine

from api import problems
from api.routers import health, scores
from api.settings import Settings
from features.storage import make_engine

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


def create_app(settings: Settings, *, engine: Engine | None = None) -> FastAPI:
    """Build the app; the schema must already be migrated (``concord db upgrade``)."""
    app = FastAPI(
        title="Concord",
        version="0.1.0",
        description=(
            "Area-level early warning of community dispute risk. Scores exist for areas and periods, "
            "never for people; every flag is a request for mediation and services."
        ),
    )
    app.state.settings = settings
    app.state.engine = engine or make_engine(settings.db_url)
    problems.install(app)

    @app.middleware("http")
    async def security_headers(request: Request, call_next) -> Response:  # noqa: ANN001
        response = await call_next(request)
        response.headers.update(SECURITY_HEADERS)
        return response

    app.include_router(health.router)
    app.include_router(scores.router)
    return app
