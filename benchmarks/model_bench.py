"""The escalation model against every baseline and the oracle on a simulated city, and what limits it.

    .venv/bin/python benchmarks/model_bench.py [--areas 300] [--weeks 156] [--seed 7] [--workdir DIR] [--counts]

Simulates the default city (what ``concord demo`` writes), loads it, builds
the weekly panel and runs the training recipe's rolling-origin backtest
(models.evaluate.backtest: 4 folds x 8 weeks, horizon 1, each fold fitted
only on outcomes known at its origin) with the baselines and the oracle
(the simulator's ``p_escalation``). A ``--workdir`` that already holds the
loaded city is reused. Then two diagnostics that separate what the records
can tell from what the estimator makes of it, scored on the same rows:

- ``persistent risk (truth)``: each area's mean ``p_escalation`` over the
  whole simulation, a constant per area. It knows the area's lasting risk
  exactly (no forecaster does) and nothing of the week.
- ``recipe + oracle's p``: the same training recipe with the oracle's
  probability added as one more feature, i.e. the recipe's ceiling when the
  information is there.
- ``recipe + hidden lasting state``: the recipe with what the simulator
  fixes per community (base rates with the community and family effects,
  the reporting share) and its structural drivers, as features.
- ``recipe + all hidden state``: the same plus the weekly state (latent
  tension, self-excitation, every open serious case, policies' effect),
  re-simulated from the same seed (``features.simulation.run``'s
  ``observe``).
- how well the records tell the weekly tension: the out-of-time R² of a
  booster predicting each community's mean latent tension from the
  catalogue features (trained before the first fold, scored after it).

Prints Markdown tables (means over folds, ratios to the oracle, per-fold
AP / PAI at 5%) and one summary line.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.metrics import r2_score
from threadpoolctl import threadpool_limits

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from api.cli.backtest_cmd import load_adjacency, load_truth  # noqa: E402
from api.settings import Settings  # noqa: E402
from features.load_directory import load_directory  # noqa: E402
from features.pipeline import PanelSpec, build_features, feature_columns, load_panel  # noqa: E402
from features.simulation import SimulationConfig, simulate  # noqa: E402
from features.simulation.run import HiddenState, run  # noqa: E402
from features.simulation.writer import MemorySinks  # noqa: E402
from features.storage import make_engine, upgrade  # noqa: E402
from models.backtest import ORACLE  # noqa: E402
from models.evaluate import BacktestPlan, backtest  # noqa: E402
from models.metrics import classification_metrics  # noqa: E402

KEY = b"bench"
SHOWN = {"average_precision": "AP", "pai_at_5": "PAI@5%", "precision_at_1": "precision@1%", "precision_at_5": "precision@5%",
         "ece": "ECE", "roc_auc": "ROC AUC"}


def prepare_city(work: Path, *, areas: int, weeks: int, seed: int, start: dt.date) -> tuple[object, pd.DataFrame]:
    """The loaded city and its stored panel (simulated, loaded and built unless ``work`` has them)."""
    engine = make_engine(f"sqlite:///{work / 'concord.db'}")
    city = work / "demo-city"
    if not (city / "truth_area_weeks.csv").is_file():
        simulate(SimulationConfig(communities=areas, weeks=weeks, seed=seed, start=start), city, "csv")
        upgrade(engine)
        load_directory(engine, city, hash_key=KEY, loaded_by="bench")
    build_features(engine, spec=PanelSpec(), data_dir=work)
    return engine, load_panel(engine, data_dir=work)


def persistent_rows(predictions: pd.DataFrame, truth: pd.DataFrame) -> pd.DataFrame:
    """Per fold, the metrics of each area's mean true probability over the whole simulation."""
    mean_p = truth.groupby("area_id")["p_escalation"].mean()
    rows = []
    for fold, part in predictions.groupby("fold"):
        score = part["area_id"].astype(str).map(mean_p).to_numpy(float)
        rows.append({"fold": fold, "scorer": "persistent risk (truth)",
                     **classification_metrics(y=part["label"].to_numpy(float), p=score, period=part["period_start"].to_numpy())})
    return pd.DataFrame(rows)


def hidden_state(config: SimulationConfig) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(lasting, weekly) hidden-state features per area and week, re-simulated from ``config``'s seed."""
    weeks: list[HiddenState] = []
    run(config, MemorySinks(), observe=weeks.append)

    def frame(columns: dict[str, object]) -> pd.DataFrame:
        return pd.DataFrame({"area_id": np.concatenate([w.ids for w in weeks]),
                             "period_start": pd.to_datetime(np.concatenate([np.full(len(w.ids), w.week_start) for w in weeks])),
                             **columns})

    def stack(values: list[np.ndarray]) -> np.ndarray:
        return np.concatenate(values)

    lasting = frame({"hidden_base_mean": stack([w.base.mean(1) for w in weeks]),
                     "hidden_base_max": stack([w.base.max(1) for w in weeks]),
                     "hidden_reporting": stack([w.reporting for w in weeks]),
                     "hidden_drivers_max": stack([w.drivers.max(1) for w in weeks])})
    weekly = frame({"hidden_tension_mean": stack([w.tension.mean(1) for w in weeks]),
                    "hidden_tension_max": stack([w.tension.max(1) for w in weeks]),
                    "hidden_excitation": stack([w.excitation.sum(1) for w in weeks]),
                    "hidden_open_serious": stack([w.open_serious.sum(1) for w in weeks]),
                    "hidden_policy": stack([w.policy.max(1) for w in weeks]),
                    **{f"hidden_tension_{f}": stack([w.tension[:, f] for w in weeks]) for f in range(weeks[0].tension.shape[1])}})
    return lasting, weekly


def tension_r2(panel: pd.DataFrame, weekly: pd.DataFrame, *, names: list[str], origin: pd.Timestamp) -> float:
    """Out-of-time R² of the mean latent tension predicted from the catalogue features."""
    both = panel.assign(area_id=panel["area_id"].astype(str)).merge(weekly, on=["area_id", "period_start"])
    early = (both["period_start"] < origin).to_numpy()
    target = both["hidden_tension_mean"].to_numpy()
    fit = HistGradientBoostingRegressor(max_iter=300, learning_rate=0.05, random_state=0)
    fit.fit(both.loc[early, names].to_numpy(np.float64), target[early])
    return float(r2_score(target[~early], fit.predict(both.loc[~early, names].to_numpy(np.float64))))


def table(metrics: pd.DataFrame) -> str:
    means = metrics.groupby("scorer")[list(SHOWN)].mean()
    oracle = means.loc[ORACLE]
    means["AP / oracle"] = means["average_precision"] / oracle["average_precision"]
    means["PAI@5% / oracle"] = means["pai_at_5"] / oracle["pai_at_5"]
    means = means.sort_values("average_precision", ascending=False).rename(columns=SHOWN)
    lines = ["| scorer | " + " | ".join(means.columns) + " |", "| --- |" + " --- |" * len(means.columns)]
    for name, row in means.iterrows():
        lines.append(f"| {name} | " + " | ".join(f"{v:.4f}" if c == "ECE" else f"{v:.3f}" for c, v in row.items()) + " |")
    return "\n".join(lines)


def per_fold(metrics: pd.DataFrame) -> str:
    ap = metrics.pivot_table(index="fold", columns="scorer", values="average_precision")
    pai = metrics.pivot_table(index="fold", columns="scorer", values="pai_at_5")
    lines = ["| fold | " + " | ".join(ap.columns) + " |", "| --- |" + " --- |" * len(ap.columns)]
    for fold in ap.index:
        lines.append(f"| {fold} | " + " | ".join(f"{ap.loc[fold, c]:.3f} / {pai.loc[fold, c]:.2f}" for c in ap.columns) + " |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--areas", type=int, default=300)
    parser.add_argument("--weeks", type=int, default=156)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--start", type=dt.date.fromisoformat, default=dt.date(2023, 1, 2))
    parser.add_argument("--workdir", type=Path, default=None, help="reuse a loaded city here (default: a new temporary folder)")
    parser.add_argument("--counts", action="store_true", help="also backtest the count models")
    parser.add_argument("--no-diagnostics", action="store_true", help="skip the two diagnostic runs")
    args = parser.parse_args()
    work = args.workdir or Path(tempfile.mkdtemp(prefix="concord-model-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    began = time.perf_counter()
    engine, panel = prepare_city(work, areas=args.areas, weeks=args.weeks, seed=args.seed, start=args.start)
    truth, adjacency = load_truth(Settings(data_dir=work), None), load_adjacency(engine)  # what `concord backtest` reads
    names = feature_columns(panel)
    plan = BacktestPlan(folds=4, stride=8, horizons=(1,))
    with threadpool_limits(1):
        fitted = time.perf_counter()
        result = backtest(panel, feature_names=names, plan=plan, truth=truth, adjacency=adjacency, counts=args.counts)
        seconds = time.perf_counter() - fitted
        metrics = [result.metrics]
        if not args.no_diagnostics:
            metrics.append(persistent_rows(result.predictions, truth))
            cheat = panel.merge(truth.rename(columns={"p_escalation": "oracle_p"}), on=["area_id", "period_start"], how="left")
            ceiling = backtest(cheat, feature_names=[*names, "oracle_p"], plan=plan, truth=truth, adjacency=None, counts=False)
            metrics.append(ceiling.metrics[ceiling.metrics["scorer"] == "model"].assign(scorer="recipe + oracle's p"))
            config = SimulationConfig(communities=args.areas, weeks=args.weeks, seed=args.seed, start=args.start)
            lasting, weekly = hidden_state(config)
            for label, extra in (("recipe + hidden lasting state", [lasting]), ("recipe + all hidden state", [lasting, weekly])):
                known = panel.assign(area_id=panel["area_id"].astype(str))
                for part in extra:
                    known = known.merge(part, on=["area_id", "period_start"], how="left")
                added = [c for part in extra for c in part.columns if c.startswith("hidden_")]
                fitted_hidden = backtest(known, feature_names=[*names, *added], plan=plan, truth=truth, adjacency=None, counts=False)
                metrics.append(fitted_hidden.metrics[fitted_hidden.metrics["scorer"] == "model"].assign(scorer=label))
            r2 = tension_r2(panel, weekly, names=names, origin=result.folds[0].origin)
    everything = pd.concat(metrics, ignore_index=True)
    print(f"\n{args.areas} areas x {args.weeks} weeks (seed {args.seed}), {len(names)} catalogue features, "
          f"{int(np.nansum(panel['label']))} escalations; folds at {', '.join(str(f.origin.date()) for f in result.folds)}\n")
    print(table(everything), "\n")
    print(per_fold(everything[everything["scorer"].isin(["model", "long_run", "hawkes", "kernel", ORACLE,
                                                          "persistent risk (truth)", "recipe + oracle's p",
                                                          "recipe + hidden lasting state", "recipe + all hidden state"])]), "\n")
    if not args.no_diagnostics:
        print(f"The records tell the weekly latent tension with an out-of-time R² of {r2:.3f} "
              f"(a booster on the {len(names)} catalogue features, fitted before {result.folds[0].origin.date()}).\n")
    if args.counts and not result.count_metrics.empty:
        print(result.count_metrics.groupby(["target", "scorer"]).mean(numeric_only=True).round(3).to_string(), "\n")
    means = result.metrics.groupby("scorer")[["average_precision", "pai_at_5"]].mean()
    ratio = means.loc["model"] / means.loc[ORACLE]
    print(f"model AP {means.loc['model', 'average_precision']:.3f} ({ratio['average_precision']:.2f} of the oracle), "
          f"PAI@5% {means.loc['model', 'pai_at_5']:.2f} ({ratio['pai_at_5']:.2f}); backtest {seconds:.0f} s, "
          f"everything {time.perf_counter() - began:.0f} s; data in {work}")
    engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
