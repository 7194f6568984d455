"""Prometheus metrics: requests and latencies by route, scores served, the serving model.

Each app has its own ``CollectorRegistry`` (no process-wide globals), so
two apps in one test process do not mix their counts. Routes are labelled
by their template (``/v1/areas/{area_id}/score``), never by the area asked
for: the metrics must not become a record of which areas were looked at.
"""

from __future__ import annotations

import time

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter("concord_requests", "HTTP requests by route, method and status",
                                ["route", "method", "status"], registry=self.registry)
        self.latency = Histogram("concord_request_duration_seconds", "request latency by route",
                                 ["route", "method"], buckets=LATENCY_BUCKETS, registry=self.registry)
        self.scores_served = Counter("concord_scores_served", "area scores returned to users", registry=self.registry)
        self.serving_model = Gauge("concord_serving_model_info", "the model version serving (value 1)",
                                   ["version"], registry=self.registry)

    def set_serving(self, version: str | None) -> None:
        self.serving_model.clear()
        if version is not None:
            self.serving_model.labels(version=version).set(1)


class MetricsMiddleware:
    def __init__(self, app: ASGIApp, *, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def recording_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, recording_send)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            method = scope.get("method", "GET")
            self.metrics.requests.labels(route=template, method=method, status=str(status)).inc()
            self.metrics.latency.labels(route=template, method=method).observe(time.perf_counter() - start)
