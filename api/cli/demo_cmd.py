"""``concord demo``: the whole path on a simulated city, then the API.

Simulate → load → build features → train → score → an admin token → serve.
Every step is idempotent, so running the demo again reuses what is there:
the simulator writes the same bytes for the same seed, the loaders add
nothing for a file already loaded, and the feature build is incremental.
"""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path
from typing import Annotated

import sqlalchemy as sa
import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from threadpoolctl import threadpool_limits

from api.cli.backtest_cmd import load_adjacency, load_truth
from api.cli.common import console, current_user, fail, load_settings, open_database
from api.cli.specs import panel_spec
from api.security import UserError, add_user, revoke_user
from api.settings import Settings
from features.catalogue import catalogue_hash, definitions
from features.load_directory import load_directory
from features.pipeline import build_features, feature_columns, load_panel
from features.simulation import SimulationConfig, simulate
from features.storage.tables import areas
from models.jobs import score_and_store, train_and_register

DEMO_USER = "demo-admin"


def root_area(engine: sa.Engine) -> str:
    with engine.connect() as connection:
        return connection.execute(sa.select(areas.c.area_id).where(areas.c.parent_id.is_(None)).order_by(areas.c.area_id)).scalars().first()


def fresh_admin_token(engine: sa.Engine, *, region_id: str) -> str:
    """A new token for the demo admin; the previous demo token is revoked."""
    try:
        revoke_user(engine, name=DEMO_USER)
    except UserError:
        pass
    return add_user(engine, name=DEMO_USER, role="admin", region_id=region_id)


def run_demo(settings: Settings, *, communities: int, weeks: int, seed: int, start: dt.date) -> tuple[str, str]:
    """Run every step; returns (serving model version, admin token)."""
    engine = open_database(settings)
    city_dir: Path = settings.demo_city_dir
    steps = Progress(TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(), console=console)
    with steps:
        task = steps.add_task("simulating a city", total=6)
        simulate(SimulationConfig(communities=communities, weeks=weeks, seed=seed, start=start), city_dir, "csv")
        steps.update(task, advance=1, description="loading records")
        load_directory(engine, city_dir, hash_key=settings.hash_key.get_secret_value().encode(), loaded_by=current_user())
        steps.update(task, advance=1, description="building features")
        build_features(engine, spec=panel_spec(settings), data_dir=settings.data_dir, malloc_arenas=settings.build_malloc_arenas)
        steps.update(task, advance=1, description="training")
        panel = load_panel(engine, data_dir=settings.data_dir, period=settings.period)
        with threadpool_limits(1):  # one booster thread: two cores shared with the rest of the job
            model = train_and_register(
                engine, panel=panel, feature_names=feature_columns(panel), registry_dir=settings.registry_dir,
                catalogue_hash=catalogue_hash(settings.period), seed=seed,
                truth=load_truth(settings, None), adjacency=load_adjacency(engine),
            )
        if not model.serving:
            reasons = "; ".join(model.manifest.get("backtest", {}).get("gates", {}).get("reasons", [])) or "see `concord models show`"
            raise fail(f"model {model.version} did not pass the promotion gates, nothing to serve: {reasons}")
        steps.update(task, advance=1, description="scoring the latest period")
        score_and_store(
            engine, panel=panel, registry_dir=settings.registry_dir, high=settings.levels.high,
            medium=settings.levels.medium, suppression_k=settings.suppression_k,
            describe=definitions(settings.period),
        )
        steps.update(task, advance=1, description="issuing an admin token")
        token = fresh_admin_token(engine, region_id=root_area(engine))
        steps.update(task, advance=1, description="done")
    return model.version, token


def demo(
    areas_: Annotated[int, typer.Option("--areas", help="communities in the simulated city")] = 300,
    weeks: Annotated[int, typer.Option(help="weeks of records")] = 156,
    seed: Annotated[int, typer.Option(help="simulator and model seed")] = 7,
    start: Annotated[dt.datetime, typer.Option(formats=["%Y-%m-%d"], help="first week (a Monday)")] = dt.datetime(2023, 1, 2),
    serve: Annotated[bool, typer.Option(help="serve the API when done")] = True,
) -> None:
    """Simulate a city, load it, build features, train, score and serve the API."""
    settings = load_settings()
    started = time.perf_counter()
    version, token = run_demo(settings, communities=areas_, weeks=weeks, seed=seed, start=start.date())
    url = f"http://{settings.host}:{settings.port}"
    console.print(f"demo ready in {time.perf_counter() - started:.1f} s: model {version} serving")
    console.print(f"admin token (shown once): {token}", soft_wrap=True, highlight=False)
    console.print(f'try: curl -H "Authorization: Bearer {token}" {url}/v1/hotspots?limit=10', soft_wrap=True, highlight=False)
    if serve:
        import uvicorn

        from api.app import create_app

        console.print(f"serving on {url}: pages at {url}/ui/ (sign in with the token), OpenAPI at {url}/docs; Ctrl-C stops")
        uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_level="warning")


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)
