"""Benchmark a weekly retrain and the drift step's growth with rows and features.

    .venv/bin/python benchmarks/retrain_bench.py [--communities 5000] [--weeks 156] [--scaling]

Weekly retrain: a city of ``--communities`` communities is simulated for
``--weeks`` weeks; everything but the last week is loaded, its features
built, and a champion trained and promoted (set-up, not timed). The last
week's records are then dropped in the inbox and ``run_retrain`` runs every
step; the time of each step is reported (ingest, incremental features,
drift, champion/challenger comparison on 3 folds × 4 weeks, training the
challenger with its count models, register, report, promote).

Drift scaling (``--scaling``): ``check_drift`` on synthetic panels (no
records in the database, so only the panel part runs) of R rows per window
and F features, for the grid below; time of the scores and of the Evidently
report separately.

Results go to stdout as JSON lines (one per measurement) and a summary.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from features.load_directory import load_directory
from features.pipeline import PanelSpec, build_features, feature_columns, load_panel
from features.simulation import SimulationConfig, simulate
from features.storage import make_engine, upgrade
from models import registry
from models.jobs import train_and_register
from models.monitoring.compare import ComparisonPlan
from models.monitoring.drift import (
    DriftConfig,
    column_scores,
    evidently_report,
    report_columns,
)
from models.monitoring.retrain import RetrainConfig, run_retrain
from models.monitoring.stattest import register

KEY = b"bench"
DATED = {"petitions": "recorded_on", "mediation": "recorded_on", "petitions_corrections": "recorded_on",
         "mediation_corrections": "recorded_on", "population": "period_start", "policies": "announced_on"}


def emit(**values: object) -> None:
    print(json.dumps(values, default=str), flush=True)


def split(source: Path, before: Path, inbox: Path, *, cut: dt.date) -> None:
    before.mkdir(parents=True)
    inbox.mkdir(parents=True)
    for name in ("areas", "adjacency"):
        shutil.copy(source / f"{name}.csv", before / f"{name}.csv")
    for name, column in DATED.items():
        frame = pd.read_csv(source / f"{name}.csv", dtype=str, keep_default_na=False)
        late = frame[column] >= cut.isoformat()
        for folder, part in ((before, frame[~late]), (inbox, frame[late])):
            if len(part):  # header-only files are refused by ingestion
                part.to_csv(folder / f"{name}.csv", index=False)


def weekly_retrain(work: Path, *, communities: int, weeks: int) -> dict[str, float]:
    config = SimulationConfig(communities=communities, weeks=weeks, seed=1)
    started = time.perf_counter()
    simulate(config, work / "city", "csv")
    cut = config.start + dt.timedelta(weeks=weeks - 1)
    split(work / "city", work / "before", work / "inbox", cut=cut)
    engine = make_engine(f"sqlite:///{work / 'concord.db'}")
    upgrade(engine)
    load_directory(engine, work / "before", hash_key=KEY, loaded_by="bench")
    build_features(engine, spec=PanelSpec(), data_dir=work)
    panel = load_panel(engine, data_dir=work)
    champion = train_and_register(engine, panel=panel, feature_names=feature_columns(panel), registry_dir=work / "registry",
                                  catalogue_hash="bench", plan=None, promote=False, counts=False)
    registry.promote(engine, champion.version)
    emit(what="setup", communities=communities, weeks=weeks, seconds=round(time.perf_counter() - started, 1))
    del panel
    marks: dict[str, float] = {}
    last = [time.perf_counter(), "lock"]

    def on_step(step: str) -> None:
        now = time.perf_counter()
        marks[last[1]] = round(now - last[0], 2)
        last[:] = [now, step]

    retrain = RetrainConfig(data_dir=work, registry_dir=work / "registry", spec=PanelSpec(), hash_key=KEY,
                            inbox_dir=work / "inbox", drift=DriftConfig(), comparison=ComparisonPlan(folds=3, stride=4))
    began = time.perf_counter()
    outcome = run_retrain(engine, config=retrain, triggered_by="bench", on_step=on_step)
    on_step("end")
    total = round(time.perf_counter() - began, 1)
    emit(what="weekly_retrain", communities=communities, weeks=weeks, exit_code=outcome.exit_code, total_seconds=total,
         steps=marks, decision=outcome.summary.get("decision"), features=outcome.summary.get("features"))
    return {"total": total, **marks}


def synthetic(rows: int, features: int, *, shift: float, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    data = {f"f{i}": rng.poisson(2.0 + shift * (i % 3 == 0), rows).astype(float) for i in range(features)}
    return pd.DataFrame(data)


def drift_scaling(grid: list[tuple[int, int]]) -> None:
    method = register()
    for rows, features in grid:
        reference = synthetic(rows, features, shift=0.0, seed=1)
        current = synthetic(rows, features, shift=0.5, seed=2)
        names = list(reference.columns)
        started = time.perf_counter()
        scores = column_scores(reference, current, columns=names, method=method, categorical=False, threshold=0.1)
        scored = time.perf_counter() - started
        drawn = report_columns(scores, limit=DriftConfig().report_columns, always=[])
        started = time.perf_counter()
        evidently_report(reference, current, numerical=drawn, categorical=[], threshold=0.1)
        drawn_s = time.perf_counter() - started
        started = time.perf_counter()
        evidently_report(reference, current, numerical=names, categorical=[], threshold=0.1) if features <= 150 else None
        full = time.perf_counter() - started if features <= 150 else float("nan")
        emit(what="drift_scaling", rows_per_window=rows, features=features, scores_seconds=round(scored, 2),
             report_seconds=round(drawn_s, 2), report_columns=len(drawn), full_evidently_seconds=round(full, 2))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--communities", type=int, default=5000)
    parser.add_argument("--weeks", type=int, default=156)
    parser.add_argument("--scaling", action="store_true", help="also measure drift time against rows and features")
    parser.add_argument("--skip-retrain", action="store_true")
    args = parser.parse_args()
    threadpool_limits(1)
    if not args.skip_retrain:
        with tempfile.TemporaryDirectory(prefix="retrain-bench-") as work:
            weekly_retrain(Path(work), communities=args.communities, weeks=args.weeks)
    if args.scaling:
        drift_scaling([(10_000, 30), (100_000, 30), (400_000, 30), (100_000, 60), (100_000, 136), (100_000, 300)])


if __name__ == "__main__":
    main()
