"""Drift of the features, the predictions, the labels and the records, with Evidently.

Each column is judged by a distance, not a p-value: the Wasserstein
distance normalised by the pooled spread (models/monitoring/stattest.py)
for numbers and the Jensen-Shannon distance for codes,
against one ``threshold``. A test's p-value shrinks with the sample, so on
hundreds of thousands of area-periods every wobble would be "significant";
a distance says how far the distribution moved, whatever the sample size.
Each side is sampled down to ``sample_rows`` rows (Evidently's cost grows
faster than the rows; docs/benchmarks.md). On small windows the distance
between two samples of one distribution is not zero, so the threshold is
raised to a noise floor, ``NOISE_FACTOR * sqrt(1/n_reference + 1/n_current)``
(about 0.19 for 200 against 1,300 rows; below 0.1 from some 1,300 rows a
side on), so that a city of 50 communities does not cry drift every week.
Every column is scored with Evidently's own tests; its HTML report, which
costs a plotly figure per column, is drawn for the prediction, the label
and the ``report_columns`` highest-scoring features. Calendar features (``season_*``)
are left out: they differ between any two windows by construction.

The data as a whole has drifted when the share of drifted features reaches
``drift_share``, when the serving model's predictions drifted, when a coded
record column drifted or holds a value never seen in the reference, when
regular areas went silent, or when a feature started to be missing. Label
drift is reported but does not alarm alone: escalations are seasonal.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy.engine import Engine

from features.pipeline.spec import LABEL, feature_columns
from models.monitoring import stattest
from models.monitoring.history import json_ready
from models.monitoring.quality import (
    CODED_COLUMNS,
    Quality,
    missing_rises,
    new_values,
    record_frame,
    stopped_reporting,
)
from models.monitoring.scoring import (
    column_scores,
    effective_threshold,
    evidently_report,
    report_columns,
)
from models.monitoring.windows import Windows, choose_windows

EXCLUDED_PREFIXES = ("season_",)
PREDICTION = "prediction"
@dataclass(frozen=True)
class DriftConfig:
    """What a drift check compares and when it alarms (docs/adr/0009-retraining-and-drift.md)."""

    reference_periods: int = 13
    current_periods: int = 4
    sample_rows: int = 100_000
    threshold: float = 0.1
    drift_share: float = 0.25
    missing_rise: float = 0.2
    stopped_min_share: float = 0.8
    report_columns: int = 30
    seed: int = 0

    def __post_init__(self) -> None:
        checks = {
            "reference_periods": self.reference_periods >= 2, "current_periods": self.current_periods >= 1,
            "sample_rows": self.sample_rows >= 100, "threshold": 0 < self.threshold < 1,
            "drift_share": 0 < self.drift_share <= 1, "missing_rise": 0 < self.missing_rise <= 1,
            "stopped_min_share": 0 < self.stopped_min_share <= 1, "report_columns": self.report_columns >= 1,
        }
        bad = [name for name, ok in checks.items() if not ok]
        if bad:
            raise ValueError(f"drift setting out of range: {', '.join(f'{n}={getattr(self, n)!r}' for n in bad)}")


@dataclass(frozen=True)
class ServingModel:
    """The serving model as drift sees it: a scorer over the panel and where its training data ends."""

    version: str
    training_end: pd.Timestamp
    predict: Callable[[pd.DataFrame], pd.Series]  # panel -> probability per row (same index)


@dataclass(frozen=True)
class DriftResult:
    windows: Windows
    rows: dict[str, int]
    columns: pd.DataFrame  # column, group (feature / prediction / label / records), method, score, drifted
    quality: Quality
    drift_detected: bool
    reasons: list[str]
    model_version: str | None
    html: dict[str, Path] = field(default_factory=dict)
    json_path: Path | None = None

    @property
    def drifted_features(self) -> list[str]:
        part = self.columns[(self.columns["group"] == "feature") & self.columns["drifted"]]
        return part.sort_values("score", ascending=False)["column"].tolist()

    def drifted(self, group: str) -> list[str]:
        return self.columns[(self.columns["group"] == group) & self.columns["drifted"]]["column"].tolist()

    def summary(self) -> dict[str, Any]:
        features = self.columns[self.columns["group"] == "feature"]
        return json_ready({
            "windows": self.windows.as_dict(), "rows": self.rows, "model_version": self.model_version,
            "drift_detected": self.drift_detected, "reasons": self.reasons,
            "features_checked": len(features), "drifted_features": self.drifted_features,
            "drifted_share": float(features["drifted"].mean()) if len(features) else 0.0,
            "prediction_drift": self.drifted("prediction") != [], "label_drift": self.drifted("label") != [],
            "drifted_record_columns": self.drifted("records"),
            "new_values": self.quality.new_values, "stopped_reporting": self.quality.stopped_reporting,
            "missing_rises": self.quality.missing_rises,
            "scores": self.columns.to_dict("records"),
            "reports": {name: path.name for name, path in self.html.items()},
        })


def _sample(frame: pd.DataFrame, *, rows: int, seed: int) -> pd.DataFrame:
    return frame.sample(n=rows, random_state=seed) if len(frame) > rows else frame


def _usable(reference: pd.DataFrame, current: pd.DataFrame, names: list[str]) -> list[str]:
    """Columns with some value on both sides (an all-missing column is a quality finding, not a drift score)."""
    return [n for n in names if reference[n].notna().any() and current[n].notna().any()]


def panel_frames(panel: pd.DataFrame, *, windows: Windows, model: ServingModel | None) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    """(reference rows, current rows, feature names) with the serving model's prediction column added."""
    names = [n for n in feature_columns(panel) if not n.startswith(EXCLUDED_PREFIXES)]
    frame = panel[["area_id", "period_start", *names, LABEL]].copy()
    if model is not None:
        frame[PREDICTION] = model.predict(panel).to_numpy(float)
    starts = frame["period_start"]
    reference = frame[(starts >= windows.reference[0]) & (starts <= windows.reference[1])]
    current = frame[(starts >= windows.current[0]) & (starts <= windows.current[1])]
    return reference, current, names


def check_drift(
    engine: Engine, *, panel: pd.DataFrame, config: DriftConfig, out_dir: Path, model: ServingModel | None,
    period: pd.Timestamp | None = None, period_days: int = 7, progress: Callable[[str], None] = lambda m: None,
) -> DriftResult:
    """Compare the current window with the reference; write the HTML reports and the JSON summary."""
    windows = choose_windows(panel["period_start"], reference=config.reference_periods, current=config.current_periods,
                             training_end=model.training_end if model else None, period=period,
                             periods_per_year=52 if period_days == 7 else 12)
    progress(f"windows: reference {windows.reference[0].date()}..{windows.reference[1].date()}, "
             f"current {windows.current[0].date()}..{windows.current[1].date()}")
    reference, current, names = panel_frames(panel, windows=windows, model=model)
    ref_s, cur_s = (_sample(f, rows=config.sample_rows, seed=config.seed) for f in (reference, current))
    numerical = _usable(ref_s, cur_s, names + ([PREDICTION] if model else []))
    labelled = (ref_s[LABEL].notna().any() and cur_s[LABEL].notna().any())
    threshold = effective_threshold(config.threshold, reference_rows=len(ref_s), current_rows=len(cur_s))
    progress(f"feature drift: {len(numerical)} columns, {len(ref_s):,} vs {len(cur_s):,} rows, threshold {threshold:.3f}")
    method = stattest.register()
    scores = column_scores(ref_s, cur_s, columns=numerical, method=method, categorical=False, threshold=threshold)
    if labelled:
        scores |= column_scores(ref_s, cur_s, columns=[LABEL], method="jensenshannon", categorical=True, threshold=threshold)
    drawn = report_columns(scores, limit=config.report_columns, always=[c for c in (PREDICTION, LABEL) if c in scores])
    progress(f"Evidently report over {len(drawn)} columns")
    panel_snapshot = evidently_report(
        ref_s, cur_s, numerical=[c for c in drawn if c != LABEL], categorical=[],
        threshold=threshold, per_column_method=None)

    progress("record drift and data quality")
    end_current = windows.current[1].date() + dt.timedelta(days=period_days - 1)
    records_ref = record_frame(engine, start=windows.reference[0].date(), end=windows.reference[1].date() + dt.timedelta(days=period_days - 1))
    records_cur = record_frame(engine, start=windows.current[0].date(), end=end_current)
    coded = [label for _, _, label in CODED_COLUMNS]
    coded_usable = _usable(records_ref, records_cur, coded)
    records_snapshot, record_scores = (None, {})
    rec_ref, rec_cur = (_sample(f, rows=config.sample_rows, seed=config.seed) for f in (records_ref, records_cur))
    record_threshold = effective_threshold(config.threshold, reference_rows=len(rec_ref), current_rows=len(rec_cur))
    if coded_usable:
        record_scores = column_scores(rec_ref, rec_cur, columns=coded_usable, method="jensenshannon", categorical=True,
                                      threshold=record_threshold)
        records_snapshot = evidently_report(rec_ref, rec_cur, numerical=[], categorical=coded_usable,
                                            threshold=record_threshold)
    quality = Quality(
        new_values=new_values(records_ref, records_cur),
        stopped_reporting=stopped_reporting(records_ref, records_cur, reference_periods=windows.reference_periods,
                                            period_days=period_days, min_share=config.stopped_min_share),
        missing_rises=missing_rises(reference, current, features=names, rise=config.missing_rise),
    )
    columns = _score_table(scores, record_scores, threshold=threshold, record_threshold=record_threshold)
    drifted, reasons = _verdict(columns, quality, drift_share=config.drift_share)
    result = DriftResult(windows=windows, rows={"reference": len(reference), "current": len(current),
                                                "reference_sampled": len(ref_s), "current_sampled": len(cur_s),
                                                "records_reference": len(records_ref), "records_current": len(records_cur)},
                         columns=columns, quality=quality, drift_detected=drifted, reasons=reasons,
                         model_version=model.version if model else None)
    return write_outputs(result, out_dir=out_dir, snapshots={"features": panel_snapshot, "records": records_snapshot})


def _score_table(scores: dict[str, float], record_scores: dict[str, float], *, threshold: float,
                 record_threshold: float) -> pd.DataFrame:
    rows = []
    for column, score in scores.items():
        group = "prediction" if column == PREDICTION else "label" if column == LABEL else "feature"
        rows.append({"column": column, "group": group, "method": "jensenshannon" if group == "label" else stattest.NAME,
                     "score": score, "threshold": threshold, "drifted": score >= threshold})
    rows += [{"column": c, "group": "records", "method": "jensenshannon", "score": s, "threshold": record_threshold,
              "drifted": s >= record_threshold} for c, s in record_scores.items()]
    return pd.DataFrame(rows, columns=["column", "group", "method", "score", "threshold", "drifted"])


def _verdict(columns: pd.DataFrame, quality: Quality, *, drift_share: float) -> tuple[bool, list[str]]:
    features = columns[columns["group"] == "feature"]
    reasons = []
    share = float(features["drifted"].mean()) if len(features) else 0.0
    if share >= drift_share:
        reasons.append(f"{int(features['drifted'].sum())} of {len(features)} features drifted ({share:.0%} ≥ {drift_share:.0%})")
    if columns[(columns["group"] == "prediction") & columns["drifted"]].shape[0]:
        reasons.append("the serving model's predictions drifted")
    reasons += [f"record column {c} drifted" for c in columns[(columns["group"] == "records") & columns["drifted"]]["column"]]
    reasons += quality.reasons()
    return bool(reasons), reasons


def write_outputs(result: DriftResult, *, out_dir: Path, snapshots: dict[str, Any]) -> DriftResult:
    """Write ``drift-<stamp>.html`` (features), ``…records.html`` and ``….json``, each whole or not at all."""
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = f"drift-{dt.datetime.now(dt.UTC):%Y%m%d-%H%M%S-%f}"
    html = {}
    for name, snapshot in snapshots.items():
        if snapshot is None:
            continue
        path = out_dir / (f"{stem}.html" if name == "features" else f"{stem}.{name}.html")
        tmp = path.with_name(path.name + ".tmp")
        snapshot.save_html(str(tmp))
        tmp.replace(path)
        html[name] = path
    done = DriftResult(**{**result.__dict__, "html": html, "json_path": out_dir / f"{stem}.json"})
    tmp = done.json_path.with_name(done.json_path.name + ".tmp")
    tmp.write_text(json.dumps(done.summary(), indent=1, ensure_ascii=False), encoding="utf-8")
    tmp.replace(done.json_path)
    return done


def file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()
