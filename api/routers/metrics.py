"""``/metrics`` in the Prometheus text format, for the operators' scraper.

It carries route templates, counts and latencies, never area ids, so it
needs no token (scrapers rarely hold one); keep it off the public network.
"""

from __future__ import annotations

import sqlalchemy as sa
from fastapi import APIRouter, Request
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from models import registry

router = APIRouter(tags=["health"])


@router.get("/metrics", response_class=Response, summary="Prometheus metrics: requests, latencies, scores served, model",
            responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}}})
def metrics(request: Request) -> Response:
    state = request.app.state
    try:
        serving = registry.serving_version(state.engine)
        state.metrics.set_serving(None if serving is None else serving.version)
    except sa.exc.OperationalError:
        pass  # the counters are still worth scraping while the database is down
    return Response(generate_latest(state.metrics.registry), media_type=CONTENT_TYPE_LATEST)
