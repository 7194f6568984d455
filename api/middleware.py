"""Plain ASGI middleware: security headers, and declared body sizes checked before anything reads them.

Pure ASGI rather than ``@app.middleware("http")``: the latter wraps every
response in extra tasks and streams, which costs throughput on the hot
score endpoints (docs/benchmarks.md).
"""

from __future__ import annotations

import json

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cache-control", b"no-store"),
]
#: Pages and API answers load nothing from elsewhere; the interactive docs
#: (/docs, /redoc) fetch their scripts from a CDN, so they get no CSP.
CSP = (b"content-security-policy", b"default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'")
NO_CSP_PATHS = ("/docs", "/redoc")


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = SECURITY_HEADERS if scope["path"].startswith(NO_CSP_PATHS) else [*SECURITY_HEADERS, CSP]

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                names = {name.lower() for name, _ in message.get("headers", [])}
                message["headers"] = [*message.get("headers", []), *(h for h in extra if h[0] not in names)]
            await send(message)

        await self.app(scope, receive, send_with_headers)


class BodyTooLarge(HTTPException):
    """Raised while a body streams in; FastAPI passes HTTPExceptions to the problem+json handler."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request body is larger than the limit of {limit} bytes")


class BodyLimit:
    """Cap request bodies: ``max_bytes`` by default, ``limits`` per path prefix (uploads).

    A declared Content-Length over the cap is answered before anything runs;
    a body without one (chunked) is counted as it streams and stopped at the
    cap. FastAPI's own ``max_body_size`` answers in plain text from outside
    the app's middleware, so this one keeps the single error shape.
    """

    def __init__(self, app: ASGIApp, *, max_bytes: int, limits: dict[str, int]) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.limits = limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = next((cap for prefix, cap in self.limits.items() if scope["path"].startswith(prefix)), self.max_bytes)
        declared = dict(scope.get("headers", [])).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > limit:
            detail = BodyTooLarge(limit).detail
            body = json.dumps({"type": "about:blank", "title": "Payload Too Large", "status": 413, "detail": detail}).encode()
            await send({"type": "http.response.start", "status": 413, "headers": [
                (b"content-type", b"application/problem+json"), (b"content-length", str(len(body)).encode())]})
            await send({"type": "http.response.body", "body": body})
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise BodyTooLarge(limit)
            return message

        await self.app(scope, counted, send)
