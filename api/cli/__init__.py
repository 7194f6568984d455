"""The one command-line interface, ``concord``: one command per job.

Each job lives in its own module and is registered here; the modules read
settings at the edge and call the plain functions of ``features`` and
``models``.
"""

from __future__ import annotations

import typer

app = typer.Typer(
    name="concord",
    help="Concord: early warning of community dispute risk, for areas, never people.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _register() -> None:
    """Attach every job's commands: each ``*_cmd`` module here has ``register(app)``."""
    import importlib
    import pkgutil

    for info in sorted(pkgutil.iter_modules(__path__), key=lambda info: info.name):
        if info.name.endswith("_cmd"):
            importlib.import_module(f"{__name__}.{info.name}").register(app)


_register()
