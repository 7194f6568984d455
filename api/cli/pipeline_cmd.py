"""``concord train`` and ``concord score``: the model jobs over the stored feature panel."""

from __future__ import annotations

import datetime as dt
import time
from typing import Annotated

import pandas as pd
import typer

from api.cli.common import console, fail, load_settings, open_database
from api.settings import Settings
from features.catalogue import by_name, catalogue_hash
from features.pipeline import feature_columns, load_panel
from models import registry
from models.jobs import score_and_store, train_and_register
from models.train import TrainingFailed


def registry_dir(settings: Settings):  # noqa: ANN201 - a Path
    return settings.data_dir / "registry"


def train(
    seed: Annotated[int, typer.Option(help="random seed of the estimator")] = 0,
    promote: Annotated[bool, typer.Option(help="make the new version the serving one")] = True,
) -> None:
    """Train the escalation model on the stored panel and register it as a new version."""
    settings = load_settings()
    engine = open_database(settings)
    started = time.perf_counter()
    try:
        panel = load_panel(engine, data_dir=settings.data_dir, period=settings.period)
        with console.status("training the escalation model…"):
            model = train_and_register(
                engine, panel=panel, feature_names=feature_columns(panel), registry_dir=registry_dir(settings),
                catalogue_hash=catalogue_hash(settings.period), seed=seed, promote=promote,
            )
    except (TrainingFailed, LookupError, FileNotFoundError) as exc:
        raise fail(f"training failed, the serving model is unchanged: {exc}") from exc
    metrics = model.manifest["metrics"]
    console.print(
        f"trained {model.version} on {model.manifest['rows']:,} area-periods in {time.perf_counter() - started:.1f} s; "
        f"holdout AP {metrics['model_average_precision']:.3f} vs long-run baseline {metrics['baseline_average_precision']:.3f}"
        f"{'; now serving' if model.serving else ''}"
    )


def score(
    period: Annotated[dt.datetime | None, typer.Option(formats=["%Y-%m-%d"], help="period start; default the latest")] = None,
) -> None:
    """Score every area for a period with the serving model and store the scores."""
    settings = load_settings()
    engine = open_database(settings)
    try:
        panel = load_panel(engine, data_dir=settings.data_dir, period=settings.period)
        describe = {name: spec.definition for name, spec in by_name(settings.period).items()}
        summary = score_and_store(
            engine, panel=panel, registry_dir=registry_dir(settings), high=settings.levels.high,
            medium=settings.levels.medium, describe=describe,
            period=pd.Timestamp(period) if period is not None else None,
        )
    except (LookupError, FileNotFoundError, registry.ArtifactRejected) as exc:
        raise fail(str(exc)) from exc
    console.print(
        f"scored {summary.areas:,} areas for {summary.period_start.date()} with {summary.model_version}: "
        f"{summary.high} high, {summary.medium} medium"
    )


def register(app: typer.Typer) -> None:
    app.command("train")(train)
    app.command("score")(score)
