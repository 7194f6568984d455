"""The public entry points: write a city to a folder, or keep a small one in memory.

``simulate`` streams every file to ``out_dir`` (CSV or Parquet) and writes
``areas.geojson`` and ``manifest.json`` (seed, parameters, row counts,
escalation rate, oracle hit rate, and with ``messy`` the dirt injected).
``simulate_frames`` returns the same tables as pandas frames, for tests and
notebooks on small cities. Same config, same bytes.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from features.simulation.config import SimulationConfig
from features.simulation.geography import write_geojson
from features.simulation.messiness import Mess
from features.simulation.run import Progress, RunStats, run
from features.simulation.writer import MemorySinks, Sinks

#: Every record and truth file, in the order they are written.
FILES = ("areas", "adjacency", "population", "petitions", "mediation", "policies", "petitions_corrections",
         "mediation_corrections", "truth_area_weeks", "truth_policies")
MANIFEST_VERSION = 1


@dataclass(frozen=True)
class SimulationSummary:
    """What a run wrote and the figures it measured."""

    out_dir: Path
    files: dict[str, int]  # file name -> rows
    rows: int
    community_weeks: int
    escalation_rate: float
    mean_p_escalation: float
    oracle_hit_rate_top5: float
    seconds: float


def _manifest(config: SimulationConfig, fmt: str, files: dict[str, int], stats: RunStats,
              mess: Mess | None) -> dict[str, Any]:
    rate = stats.escalations / max(stats.community_weeks, 1)
    return {
        "manifest_version": MANIFEST_VERSION,
        "generator": "features.simulation",
        "seed": config.seed,
        "format": fmt,
        "encoding": mess.params.encoding if mess else "utf-8",
        "messy": mess.report if mess else None,
        "parameters": config.as_dict(),
        "export_on": config.export_on.isoformat(),
        "rows": files,
        "community_weeks": stats.community_weeks,
        "escalation_rate": round(rate, 6),
        "mean_p_escalation": round(stats.p_sum / max(stats.community_weeks, 1), 6),
        "oracle_hit_rate_top5": round(stats.oracle_hit_rate(0.05), 6),
        "policies": stats.policies,
        "factory_closures": stats.closures,
        "screened_disputes": stats.screened_found,
        "screened_mediated": stats.screened_mediated,
        "truth_area_weeks_layout": "wide: expected_petitions_<family>, expected_mediation_<family>",
    }


def simulate(config: SimulationConfig, out_dir: Path, fmt: Literal["csv", "parquet"] = "csv",
             progress: Progress | None = None) -> SimulationSummary:
    """Simulate ``config`` and write every file to ``out_dir`` (created if missing)."""
    if fmt not in ("csv", "parquet"):
        raise ValueError(f"format must be csv or parquet, got {fmt!r}")
    if config.messy and fmt != "csv":
        raise ValueError("--messy writes CSV (the dirt is an export's); use format csv")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    began = time.perf_counter()
    mess = Mess(config.mess, np.random.default_rng(np.random.SeedSequence([config.seed, 7]))) if config.messy else None
    sinks = Sinks(out_dir, fmt, config.chunk_rows, mess)
    stats, city = run(config, sinks, progress)
    files = sinks.close()
    write_geojson(city, out_dir / "areas.geojson")
    seconds = time.perf_counter() - began
    # no timing in the manifest: the same seed must give the same bytes
    manifest = _manifest(config, fmt, files, stats, mess)
    (out_dir / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=False) + "\n",
                                           encoding="utf-8")
    return SimulationSummary(
        out_dir=out_dir, files=files, rows=sum(files.values()), community_weeks=stats.community_weeks,
        escalation_rate=stats.escalations / max(stats.community_weeks, 1),
        mean_p_escalation=stats.p_sum / max(stats.community_weeks, 1),
        oracle_hit_rate_top5=stats.oracle_hit_rate(0.05), seconds=seconds,
    )


def simulate_frames(config: SimulationConfig) -> dict[str, pd.DataFrame]:
    """Every table of a (small) run as pandas frames, keyed by file stem; no dirt, no files."""
    sinks = MemorySinks()
    run(config, sinks)
    return {stem: sinks.table(stem).to_pandas(date_as_object=False) for stem in sinks.tables}
