"""The HTTP service: built by a factory from settings, with no work at import."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy.engine import Engine
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import State

from api import problems
from api.audit import AsyncTrail
from api.metrics import Metrics, MetricsMiddleware
from api.middleware import BodyLimit, SecurityHeaders
from api.regions import LineageCache
from api.routers import areas, flags, health, monitoring, policy_reviews, records, scores
from api.routers import metrics as metrics_route
from api.routers import models as models_router
from api.score_index import ScoreIndex, warm
from api.score_render import ScoreRenderCache
from api.serving import ServingCheck
from api.settings import Settings
from api.ttl_cache import TtlCache
from features.storage import make_engine

PAGES = Path(__file__).parent / "pages"


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    state = app.state
    await state.trail.start()
    warming = asyncio.create_task(_warm(state, freeze=state.settings.env == "production"))
    yield
    try:
        await warming
    except Exception as exc:  # noqa: BLE001 - a failed warm-up only means the first request loads instead
        problems.log.warning("warming the hot path failed: %s", exc)
    await state.trail.stop()


async def _warm(state: State, *, freeze: bool) -> None:
    """Load the hot path's data; in production, then exempt everything alive from the cyclic collector.

    A server process holds a few hundred thousand objects (the imported
    libraries, what the hot path keeps) that live as long as it does; a full
    collection walking them stalled every request for 100–250 ms
    (docs/benchmarks.md#service). ``gc.freeze`` moves them out of the
    collector's sight; new garbage is still collected. Not in tests, which
    build many apps in one process and should get their memory back.
    """
    try:
        await run_in_threadpool(warm, state.engine, serving=state.serving_check, index=state.score_index,
                                lineages=state.lineages)
    finally:
        if freeze:
            gc.collect()
            gc.freeze()


def create_app(settings: Settings, *, engine: Engine | None = None) -> FastAPI:
    """Build the app; the schema must already be migrated (``concord db upgrade``)."""
    app = FastAPI(
        lifespan=_lifespan,
        title="Concord",
        version="0.1.0",
        description=(
            "Area-level early warning of community dispute risk. Scores exist for areas and periods, "
            "never for people; every flag is a request for mediation and services. Counts below "
            f"{settings.suppression_k} are shown as '<{settings.suppression_k}'. Every read and write is audited."
        ),
    )
    app.state.settings = settings
    app.state.engine = engine or make_engine(settings.db_url, pool_size=settings.db_pool_size)
    # What the hot paths keep for ``cache_seconds`` instead of asking per request (docs/adr/0013).
    app.state.tokens = TtlCache(settings.cache_seconds)
    app.state.serving_check = ServingCheck(registry_dir=settings.registry_dir, recheck_seconds=settings.cache_seconds)
    app.state.lineages = LineageCache(recheck_seconds=settings.cache_seconds)
    app.state.score_cache = ScoreRenderCache()
    app.state.score_index = ScoreIndex(recheck_seconds=settings.cache_seconds, renders=app.state.score_cache)
    app.state.metrics = Metrics()
    app.state.trail = AsyncTrail(app.state.engine, pool_size=settings.db_pool_size)
    problems.install(app)
    if settings.cors_origins:  # closed unless origins are configured
        app.add_middleware(CORSMiddleware, allow_origins=settings.cors_origins, allow_methods=["GET", "POST", "PUT"],
                           allow_headers=["Authorization", "Content-Type"], allow_credentials=False)
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes,
                       limits={records.UPLOAD_PREFIX: settings.max_upload_bytes})
    app.add_middleware(SecurityHeaders)
    app.add_middleware(MetricsMiddleware, metrics=app.state.metrics)  # outermost: sees every answer

    app.mount("/ui", StaticFiles(directory=PAGES, html=True), name="pages")

    @app.get("/", include_in_schema=False)
    def home() -> RedirectResponse:
        return RedirectResponse("/ui/")

    app.include_router(health.router)
    app.include_router(scores.router)
    app.include_router(areas.router)
    app.include_router(flags.router)
    app.include_router(models_router.router)
    app.include_router(records.router)
    app.include_router(metrics_route.router)
    app.include_router(policy_reviews.router)
    app.include_router(monitoring.router)
    return app
