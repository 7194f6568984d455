"""``concord serve``: the HTTP API under uvicorn."""

from __future__ import annotations

from typing import Annotated

import typer

from api.cli.common import console, load_settings, open_database


def serve(
    host: Annotated[str | None, typer.Option(help="interface to bind; default from settings (127.0.0.1)")] = None,
    port: Annotated[int | None, typer.Option(help="port; default from settings (8000)")] = None,
) -> None:
    """Serve the HTTP API (OpenAPI docs at /docs)."""
    import uvicorn

    from api.app import create_app

    settings = load_settings()
    engine = open_database(settings)
    host, port = host or settings.host, port or settings.port
    console.print(f"Concord API on http://{host}:{port}  (OpenAPI: http://{host}:{port}/docs)")
    uvicorn.run(create_app(settings, engine=engine), host=host, port=port, log_level="info")


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
