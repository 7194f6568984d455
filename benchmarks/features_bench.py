"""Benchmark the feature build on a simulated city: 5,000 communities × 260 weeks.

    .venv/bin/python benchmarks/features_bench.py [--areas 5000] [--weeks 260] [--repeat 3] \
        [--incremental-runs 3] [--workdir /tmp/concord-features-bench]

Records: drawn here with numpy rather than by ``features.simulation``, whose
city of this size carries about 1.5 million versions (0.1–0.2 petitions a
week per community) where the issue asks for several million: each community
has a Gamma-distributed base rate and a seasonal bump before the Spring
Festival, giving about 2.3 petitions and 1.5 mediation cases a week per
community (~5 million rows with 5% corrections), monthly population, 600
policies on streets and a grid-like adjacency. They are bulk inserted into a
migrated SQLite database and written to Parquet.

Each measured stage runs in a fresh subprocess so its peak resident memory
(``ru_maxrss``) is its own:

- ``reference``: DuckDB counting petitions and cases per area × week × category
  straight from the Parquet files;
- ``full``: ``build_features`` from scratch, the cold first build (SQLite →
  stored panel of Arrow IPC parts and the record cache);
- ``stages``: the same full build split into reading every record version
  from SQLite (columnar through ADBC when ``adbc-driver-sqlite`` is
  installed, otherwise through the DB-API cursor) and turning it into the
  snapshot, then computing the features in memory;
- ``rebuild``: ``build_features(full=True)`` (``concord features build
  --full``) right after the cold build: every period and the labels
  recomputed and written, the records memory-mapped from the record cache
  (the database is asked only for batches the cache does not hold: none).
  The stored panel's files are deleted first (not timed), so every file is
  really written rather than found already there by its content hash. This is
  the like-for-like comparison with the reference, which also starts from
  columnar records;
- ``incremental``: one more week of records (plus late entries about the
  past month) loaded as a new batch, then ``build_features`` again: it reads
  the record cache and only the new batch from SQLite.

Why rounds: the machine this runs on is a shared, noisy 2-core VM on which
memory is dear: faulting in fresh pages costs about 2–3 s of system time per
GB (touching 15 GB took 51 s and then 40 s of system time, twice in a row;
a rebuild allocates ~4.4 GB of pages and spends 6–9 s in the kernel), and
how much a stage pays depends on what the kernel has free at that moment. A
single run per stage, and the order the stages ran in, moved the
rebuild/reference ratio between 2.5x and 4.7x for the same code. So right
after generating, a pristine copy of the database is taken
(``concord.pristine.db``, through SQLite's backup API since the database is in
WAL mode). Then ``--repeat`` rounds each run
``reference``, then ``full`` on a fresh state (the pristine database restored
over ``concord.db``, ``data/`` deleted), then ``rebuild`` on the state
``full`` left (after round 1's, the week is added and that state saved to
``incremental-base/``: every incremental build starts from it), then
``incremental`` ``--incremental-runs`` times, each on the saved state
restored (restoring is not timed), the round taking their median:
a half-second build is hit by a passing hiccup of the machine far more than a
build of seconds. Each ratio is taken within its round, between stages
measured a minute or two apart, and the median over rounds reported with its
range. ``stages`` runs once, first in round 1, on the pristine state (it
reads the database only). Every stage's JSON line is printed with its round,
then a table per round with the medians, and a warning (exit status 1) if
the repeated builds disagree on what they recomputed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import shutil
import sqlite3
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from features.catalogue import FAMILIES  # noqa: E402

START = dt.date(2019, 1, 7)  # a Monday
CATEGORIES = np.array([f for f in FAMILIES if f != "other"] + ["local_other"])


def _peak_mb() -> float:
    """Peak resident memory of this process since its exec (VmHWM; ru_maxrss survives exec on Linux)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _dates(days: np.ndarray) -> np.ndarray:
    return np.datetime_as_string(np.datetime64(START, "D") + days.astype("timedelta64[D]"), unit="D")


def _records(rng: np.random.Generator, *, areas: np.ndarray, weeks: range, rate: np.ndarray, kind: str, offset: int) -> pd.DataFrame:
    """Draw one kind's records for ``weeks`` (Poisson counts per area-week, uniform days)."""
    n_w = len(weeks)
    season = 1 + 0.4 * np.exp(-(((np.arange(weeks.start, weeks.stop) % 52) - 4) ** 2) / 8)
    lam = rate[:, None] * season[None, :]
    counts = rng.poisson(lam)
    area = np.repeat(np.repeat(np.arange(len(areas)), n_w), counts.ravel())
    week = np.repeat(np.tile(np.arange(weeks.start, weeks.stop), len(areas)), counts.ravel())
    n = len(area)
    day = week * 7 + rng.integers(0, 7, n)
    recorded = day + np.minimum(rng.geometric(0.5, n) - 1, 30)
    frame = pd.DataFrame({"id": [f"{kind[0]}{offset + i}" for i in range(n)], "version": 1, "area_id": areas[area],
                          "event": day, "recorded": recorded, "category": CATEGORIES[rng.integers(0, len(CATEGORIES), n)]})
    closed = day + rng.integers(1, 60, n)
    frame["closed"] = np.where(rng.random(n) < 0.8, closed, -1)
    if kind == "petitions":
        frame["people"] = np.where(rng.random(n) < 0.05, rng.integers(5, 40, n), rng.integers(1, 4, n))
        frame["level"] = np.array(["community", "street", "county", "city", "province"])[rng.choice(5, n, p=[.3, .3, .3, .08, .02])]
        frame["repeat"] = (rng.random(n) < 0.2).astype(int)
        frame["satisfied"] = np.where(frame["closed"] >= 0, (rng.random(n) < 0.7).astype(float), np.nan)
    else:
        frame["outcome"] = np.array(["agreement", "failed", "referred", "pending"])[rng.choice(4, n, p=[.7, .1, .1, .1])]
        frame["parties"] = rng.integers(2, 8, n)
        frame["amount"] = np.round(rng.lognormal(9, 1.5, n), 0)
        frame["origin"] = np.where(rng.random(n) < 0.4, "screened", "reported")
    fixes = frame.sample(frac=0.05, random_state=int(rng.integers(1 << 30))).copy()
    fixes["version"] = 2
    fixes["recorded"] = fixes["recorded"] + rng.integers(1, 90, len(fixes))
    fixes["category"] = CATEGORIES[rng.integers(0, len(CATEGORIES), len(fixes))]
    return pd.concat([frame, fixes], ignore_index=True)


def _rows(frame: pd.DataFrame, kind: str, batch: int):
    closed = np.where(frame["closed"].to_numpy() >= 0, _dates(np.maximum(frame["closed"].to_numpy(), 0)), None)
    event, recorded = _dates(frame["event"].to_numpy()), _dates(frame["recorded"].to_numpy())
    if kind == "petitions":
        sat = frame["satisfied"].to_numpy()
        return zip(frame["id"], frame["version"].tolist(), frame["area_id"], event, recorded, frame["category"],
                   frame["people"].tolist(), frame["level"], frame["repeat"].tolist(), closed,
                   [None if np.isnan(v) else int(v) for v in sat], ["h"] * len(frame), [batch] * len(frame))
    return zip(frame["id"], frame["version"].tolist(), frame["area_id"], event, recorded, frame["category"], closed,
               frame["outcome"], frame["parties"].tolist(), frame["amount"].tolist(), frame["origin"],
               ["h"] * len(frame), [batch] * len(frame))


SQL = {
    "petitions": "INSERT INTO petitions (petition_id, version, area_id, received_on, recorded_on, category, people, level_reached,"
                 " is_repeat, closed_on, satisfied, content_hash, batch_id) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
    "mediation": "INSERT INTO mediation_cases (case_id, version, area_id, opened_on, recorded_on, dispute_type, closed_on, outcome,"
                 " parties, amount, origin, content_hash, batch_id) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
}


def _batch(db: sqlite3.Connection, kind: str) -> int:
    cur = db.execute("INSERT INTO load_batches (kind, source, sha256, rows_in, rows_added, rows_corrected, rows_unchanged,"
                     " loaded_at, loaded_by) VALUES (?, 'bench', '0', 0, 0, 0, 0, ?, 'bench')", (kind, dt.datetime.now().isoformat()))
    return int(cur.lastrowid)


def generate(work: Path, *, n_areas: int, weeks: int, seed: int = 7) -> dict:
    from features.storage import make_engine, upgrade

    rng = np.random.default_rng(seed)
    work.mkdir(parents=True, exist_ok=True)
    db_path = work / "concord.db"
    db_path.unlink(missing_ok=True)
    engine = make_engine(f"sqlite:///{db_path}")
    upgrade(engine)
    engine.dispose()
    db = sqlite3.connect(db_path)
    db.execute("PRAGMA synchronous=OFF")
    streets = n_areas // 20
    areas = np.array([f"C{i:05d}" for i in range(n_areas)])
    b = _batch(db, "areas")
    db.executemany("INSERT INTO areas (area_id, name, parent_id, level, content_hash, batch_id) VALUES (?,?,?,?,?,?)",
                   [("CITY", "city", None, "city", "h", b)]
                   + [(f"S{s:04d}", f"street {s}", "CITY", "street", "h", b) for s in range(streets)]
                   + [(a, a, f"S{i // 20:04d}", "community", "h", b) for i, a in enumerate(areas)])
    side = int(np.ceil(np.sqrt(n_areas)))
    edges = [(areas[i], areas[j]) for i in range(n_areas) for j in (i + 1, i + side) if j < n_areas and (j != i + 1 or j % side)]
    db.executemany("INSERT INTO adjacency (area_id, neighbor_id, content_hash, batch_id) VALUES (?,?,?,?)",
                   [(a, c, "h", b) for a, c in edges])
    rate_p = rng.gamma(2.0, 1.15, n_areas)
    rate_m = rng.gamma(2.0, 0.75, n_areas)
    out = {"areas": n_areas, "weeks": weeks}
    frames = {}
    for kind, rate, offset in (("petitions", rate_p, 0), ("mediation", rate_m, 10**8)):
        frame = _records(rng, areas=areas, weeks=range(0, weeks), rate=rate, kind=kind, offset=offset)
        frame = frame[frame["recorded"] < weeks * 7]  # nothing recorded after the last week yet
        b = _batch(db, kind)
        db.executemany(SQL[kind], _rows(frame, kind, b))
        frames[kind] = frame
        out[kind] = len(frame)
    months = pd.date_range(START, periods=weeks // 4 + 1, freq="MS")
    b = _batch(db, "population")
    base = rng.integers(8_000, 40_000, n_areas)
    db.executemany("INSERT INTO population (area_id, period_start, residents, registered, migrants, elderly_share,"
                   " low_income_households, rental_share, unemployed, content_hash, batch_id) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                   [(areas[i], str(m.date()), int(base[i] * (1 + 0.002 * k)), int(base[i] * 0.6), int(base[i] * 0.3), 0.15,
                     int(base[i] / 200), 0.3, int(base[i] / 50), "h", b) for k, m in enumerate(months) for i in range(n_areas)])
    b = _batch(db, "policies")
    types = ["land_requisition", "relocation", "wage_pension", "fees_prices", "facility_siting", "school_hospital_change", "other"]
    pol = []
    for p in range(600):
        day = int(rng.integers(0, weeks * 7 - 30))
        pol.append((f"POL{p}", types[p % 7], str(START + dt.timedelta(day)), str(START + dt.timedelta(day + 60)), int(rng.integers(10, 3000)), p % 2, "h", b))
    db.executemany("INSERT INTO policies (policy_id, type, announced_on, effective_on, households_affected, hearing_held,"
                   " content_hash, batch_id) VALUES (?,?,?,?,?,?,?,?)", pol)
    db.executemany("INSERT INTO policy_areas (policy_id, area_id) VALUES (?,?)", [(f"POL{p}", f"S{int(rng.integers(streets)):04d}") for p in range(600)])
    db.commit()
    db.close()
    for kind, frame in frames.items():  # the reference reads the same records from Parquet
        pd.DataFrame({"area_id": frame["area_id"], "event_on": np.datetime64(START, "D") + frame["event"].to_numpy().astype("timedelta64[D]"),
                      "category": frame["category"]}).to_parquet(work / f"{kind}.parquet")
    return out


def add_week(work: Path, *, n_areas: int, weeks: int, seed: int = 8) -> dict:
    """One more week: its new records, late entries and corrections of recent records, as new batches."""
    rng = np.random.default_rng(seed)
    areas = np.array([f"C{i:05d}" for i in range(n_areas)])
    db = sqlite3.connect(work / "concord.db")
    out = {}
    for kind, rate, offset in (("petitions", 2.3, 2 * 10**8), ("mediation", 1.5, 3 * 10**8)):
        frame = _records(rng, areas=areas, weeks=range(weeks, weeks + 1), rate=np.full(n_areas, rate), kind=kind, offset=offset)
        frame = frame[frame["version"] == 1]
        frame["recorded"] = np.clip(frame["recorded"], weeks * 7, weeks * 7 + 6)
        late = frame.sample(frac=0.05, random_state=1).copy()  # entered this week about the past month
        late["id"] = [f"L{kind[0]}{i}" for i in range(len(late))]
        late["event"] = late["event"] - rng.integers(7, 30, len(late))
        b = _batch(db, kind)
        rows = pd.concat([frame, late], ignore_index=True)
        db.executemany(SQL[kind], _rows(rows, kind, b))
        fixed = _correct_recent(db, kind=kind, batch=b, weeks=weeks, n=len(frame) // 20)
        out[kind] = len(rows) + fixed
    db.commit()
    db.close()
    return out


_COLUMNS = {
    "petitions": ("petition_id", "received_on", "area_id, received_on, {recorded}, {category}, channel, people, level_reached, "
                  "is_repeat, status, closed_on, satisfied, content_hash, {batch}",
                  "area_id, received_on, recorded_on, category, channel, people, level_reached, is_repeat, status, closed_on, "
                  "satisfied, content_hash, batch_id"),
    "mediation": ("case_id", "opened_on", "area_id, opened_on, {recorded}, {category}, closed_on, outcome, parties, amount, origin, "
                  "content_hash, {batch}",
                  "area_id, opened_on, recorded_on, dispute_type, closed_on, outcome, parties, amount, origin, content_hash, batch_id"),
}


def _correct_recent(db: sqlite3.Connection, *, kind: str, batch: int, weeks: int, n: int) -> int:
    """Corrections this week (a new version, another category) of ``n`` records received in the last eight weeks.

    SQLite's ``random()`` cannot be seeded: which records are corrected varies from run to run, their number does not.
    """
    key, event, select, insert = _COLUMNS[kind]
    table = "petitions" if kind == "petitions" else "mediation_cases"
    category = "category" if kind == "petitions" else "dispute_type"
    since = str(START + dt.timedelta(weeks=weeks - 8))
    recorded = str(START + dt.timedelta(weeks=weeks, days=3))
    picked = (f"SELECT rowid FROM {table} p WHERE {event} >= '{since}' AND version = 1 AND NOT EXISTS "
              f"(SELECT 1 FROM {table} q WHERE q.{key} = p.{key} AND q.version = 2) ORDER BY random() LIMIT {n}")
    columns = select.format(recorded=f"'{recorded}'", category=f"CASE WHEN {category} = 'medical' THEN 'labour_wages' ELSE 'medical' END",
                            batch=str(batch))
    cursor = db.execute(f"INSERT INTO {table} ({key}, version, {insert}) SELECT {key}, 2, {columns} FROM {table} "
                        f"WHERE rowid IN ({picked})")
    return cursor.rowcount


def stage(name: str, work: Path) -> dict:
    """Run one measured stage in this process; returns seconds and peak memory."""
    from features.pipeline import PanelSpec, build_features
    from features.storage import make_engine

    engine = make_engine(f"sqlite:///{work / 'concord.db'}")
    if name == "reference":  # imported before the clock starts, as the pipeline is
        import duckdb
    began = time.perf_counter()
    extra: dict = {}
    if name == "reference":
        con = duckdb.connect()
        n = 0
        for kind in ("petitions", "mediation"):
            n += len(con.sql(f"SELECT area_id, date_trunc('week', event_on) AS week, category, count(*) AS n "
                             f"FROM read_parquet('{work / kind}.parquet') GROUP BY ALL").fetchnumpy()["n"])
        extra["groups"] = n
    elif name in ("full", "rebuild", "incremental"):
        if name == "rebuild":  # every panel file written anew (the record cache stays: it is what a rebuild reads)
            for sub in ("parts", "labels"):
                shutil.rmtree(work / "data" / "features" / "week" / sub, ignore_errors=True)
            os.sync()  # the cold build's ~2 GB of files flushed first, as ``_restore`` does before every other stage
            began = time.perf_counter()
        result = build_features(engine, spec=PanelSpec(), data_dir=work / "data", full=name == "rebuild")
        extra = {"rows": result.rows, "features": result.features, "recomputed_periods": result.recomputed_periods,
                 "full": result.full, "reason": result.reason, "split": {k: round(v, 2) for k, v in result.timings.items()}}
    elif name == "stages":
        from features.pipeline import record_cache
        from features.pipeline.assemble import compute_block, known_snapshot, panel_grid, resolve_as_of
        from features.pipeline.known import Known

        spec = PanelSpec()
        known = Known(record_cache.read_all(engine))  # what a full build reads: every version, once
        extra["read_versions_seconds"] = time.perf_counter() - began
        as_of = resolve_as_of(engine, spec=spec, as_of=None, known=known)
        snap = known_snapshot(engine, known, spec=spec, as_of=as_of, grid=panel_grid(engine, spec=spec, as_of=as_of, known=known))
        del known
        extra["read_seconds"] = time.perf_counter() - began
        arrays = compute_block(snap, lo=0, hi=snap.grid.n_periods).features
        extra["compute_seconds"] = time.perf_counter() - began - extra["read_seconds"]
        extra["records"] = sum(len(f) for f in snap.frames.values())
        del arrays
    if name != "reference":
        extra["reader"] = _reader()
    return {"stage": name, "seconds": time.perf_counter() - began, "peak_mb": _peak_mb(), **extra}


def _reader() -> str:
    """Which read path ``features.pipeline.snapshot`` used: ADBC's Arrow columns or the DB-API cursor."""
    try:
        from importlib.metadata import version

        return f"adbc-driver-sqlite {version('adbc-driver-sqlite')}"
    except Exception:  # noqa: BLE001 - not installed: the cursor path
        return "sqlite3 DB-API cursor"


def _run(name: str, work: Path, *, round_: int) -> dict:
    """Run one stage in a fresh subprocess and print its JSON line (tagged with its round) as soon as it ends."""
    out = subprocess.run([sys.executable, __file__, "--stage", name, "--workdir", str(work)], capture_output=True, text=True)
    if out.returncode:
        sys.stderr.write(out.stderr)
        raise SystemExit(f"stage {name} (round {round_}) failed with exit status {out.returncode}")
    result = {"round": round_, **json.loads(out.stdout.strip().splitlines()[-1])}
    print(json.dumps(result, default=str), flush=True)
    return result


def _copy_db(source: Path, target: Path) -> None:
    """A consistent copy through SQLite's backup API: the database is in WAL mode, and the API takes the pages the WAL holds too."""
    _drop_wal(target)
    target.unlink(missing_ok=True)
    src, dst = sqlite3.connect(source), sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()


def _drop_wal(db: Path) -> None:
    """Remove ``db``'s WAL and shared-memory files: left beside a copied-over database, the WAL would be replayed onto it."""
    for suffix in ("-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)


def _restore(work: Path, *, db: Path, data: Path | None) -> None:
    """Put ``db`` back as ``concord.db`` and ``data`` (or nothing) as ``data/``, so a stage sees the same state every time.

    Not timed: each stage runs in its own subprocess afterwards. A stale ``-wal`` file would be replayed onto the copy, so
    it goes first; the saved copies are closed, complete databases, so copying the file is enough. The copies are flushed
    to disk before the stage starts (``os.sync``): otherwise the kernel writes those GBs back while the stage runs, and the
    stage's own file writes wait behind them (seen as 0.5-0.8 s more in an incremental build's write steps).
    """
    _drop_wal(work / "concord.db")
    shutil.copyfile(db, work / "concord.db")
    shutil.rmtree(work / "data", ignore_errors=True)
    if data is not None:
        shutil.copytree(data, work / "data")
    os.sync()


def _same(runs: list[dict], keys: tuple[str, ...]) -> list[str]:
    """Where runs of one stage disagree on ``keys`` (they should not: each starts from the same saved state)."""
    return [f"{runs[0]['stage']}: {key} differs between rounds: {[r.get(key) for r in runs]}"
            for key in keys if len({json.dumps(r.get(key), default=str) for r in runs}) > 1]


def _table(rows: list[list[str]], header: list[str]) -> str:
    """Plain right-aligned columns: readable in a log file, where a terminal table would wrap."""
    widths = [max(len(c) for c in column) for column in zip(header, *rows)]
    lines = ["  ".join(c.rjust(w) for c, w in zip(row, widths)) for row in (header, *rows)]
    return "\n".join([lines[0], "  ".join("-" * w for w in widths), *lines[1:]])


def summarize(rounds: list[dict[str, dict]], stages: dict) -> str:
    """Per-round times, ratios and peaks, their medians, and the one-line summary (medians and min–max of the main ratios).

    A ratio is taken within a round (stages measured minutes apart on the same machine state), then the median taken
    over rounds; each round's incremental figure is the median of its runs.
    """
    cols = {
        "reference s": lambda r: r["reference"]["seconds"],
        "rebuild s": lambda r: r["rebuild"]["seconds"],
        "rebuild/ref": lambda r: r["rebuild"]["seconds"] / r["reference"]["seconds"],
        "cold s": lambda r: r["full"]["seconds"],
        "cold/ref": lambda r: r["full"]["seconds"] / r["reference"]["seconds"],
        "incr s": lambda r: r["incremental"]["seconds"],
        "incr/cold": lambda r: r["incremental"]["seconds"] / r["full"]["seconds"],
        "incr/rebuild": lambda r: r["incremental"]["seconds"] / r["rebuild"]["seconds"],
        "ref MB": lambda r: r["reference"]["peak_mb"],
        "rebuild MB": lambda r: r["rebuild"]["peak_mb"],
        "cold MB": lambda r: r["full"]["peak_mb"],
        "incr MB": lambda r: r["incremental"]["peak_mb"],
    }
    fmt = {"incr/cold": "{:.3f}", "incr/rebuild": "{:.3f}", "incr s": "{:.2f}", "reference s": "{:.2f}"}
    values = {name: [get(r) for r in rounds] for name, get in cols.items()}
    med = {name: statistics.median(v) for name, v in values.items()}

    def cell(name: str, v: float) -> str:
        return fmt.get(name, "{:.0f}" if name.endswith("MB") else "{:.1f}").format(v)

    body = [[str(i + 1)] + [cell(name, values[name][i]) for name in cols] for i in range(len(rounds))]
    body.append(["median"] + [cell(name, med[name]) for name in cols])
    table = _table(body, ["round", *cols])
    ref1 = rounds[0]["reference"]["seconds"]
    every = [seconds for r in rounds for seconds in r["incremental"]["runs"]]
    lo_hi = {name: (min(values[name]), max(values[name])) for name in ("rebuild/ref", "incr/cold")}
    line = (f"medians over {len(rounds)} rounds: reference {med['reference s']:.2f} s; "
            f"full rebuild from the record cache {med['rebuild s']:.1f} s ({med['rebuild/ref']:.1f}x the reference, "
            f"range {lo_hi['rebuild/ref'][0]:.1f}–{lo_hi['rebuild/ref'][1]:.1f}x); "
            f"cold full build from SQLite {med['cold s']:.1f} s ({med['cold/ref']:.1f}x); "
            f"in-memory compute {stages['compute_seconds']:.1f} s ({stages['compute_seconds'] / ref1:.1f}x round 1's reference); "
            f"reading SQLite {stages['read_seconds']:.1f} s (once, round 1); incremental {med['incr s']:.2f} s "
            f"(all {len(every)} runs {min(every):.2f}–{max(every):.2f} s) "
            f"({med['incr/cold']:.3f} of the cold build, range {lo_hi['incr/cold'][0]:.3f}–{lo_hi['incr/cold'][1]:.3f}; "
            f"{med['incr/rebuild']:.3f} of the rebuild); "
            f"peak memory full {med['cold MB']:.0f} MB, rebuild {med['rebuild MB']:.0f} MB, incremental {med['incr MB']:.0f} MB")
    return f"{table}\n{line}"


def _incremental_base(work: Path, *, n_areas: int, weeks: int) -> Path:
    """The state every incremental run starts from, saved to ``incremental-base/``: the state round 1's cold build
    and rebuild left, with one more week of records loaded."""
    made = add_week(work, n_areas=n_areas, weeks=weeks)
    print(f"added a week: {made}", flush=True)
    base = work / "incremental-base"
    shutil.rmtree(base, ignore_errors=True)
    base.mkdir()
    _copy_db(work / "concord.db", base / "concord.db")
    shutil.copytree(work / "data", base / "data")
    return base


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--areas", type=int, default=5000)
    parser.add_argument("--weeks", type=int, default=260)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/concord-features-bench"))
    parser.add_argument("--repeat", type=int, default=3, help="rounds of reference, cold build, rebuild and incremental builds")
    parser.add_argument("--incremental-runs", type=int, default=3,
                        help="incremental builds per round, each on the same saved state; the round takes their median")
    parser.add_argument("--stage", choices=["reference", "full", "stages", "rebuild", "incremental"])
    args = parser.parse_args()
    work: Path = args.workdir
    if args.stage:
        print(json.dumps(stage(args.stage, work), default=str))
        return 0
    if args.repeat < 1 or args.incremental_runs < 1:
        parser.error("--repeat and --incremental-runs must be at least 1")
    began = time.perf_counter()
    made = generate(work, n_areas=args.areas, weeks=args.weeks)
    print(f"generated {made} in {time.perf_counter() - began:.0f} s", flush=True)
    pristine = work / "concord.pristine.db"
    _copy_db(work / "concord.db", pristine)
    rounds: list[dict[str, dict]] = []
    incremental_runs: list[dict] = []
    stages: dict = {}
    for i in range(1, args.repeat + 1):
        _restore(work, db=pristine, data=None)
        if i == 1:  # reads the database only (no record cache), so the pristine state is the one it needs
            stages = _run("stages", work, round_=i)
        rounds.append({"reference": _run("reference", work, round_=i)})
        _restore(work, db=pristine, data=None)
        rounds[-1]["full"] = _run("full", work, round_=i)
        rounds[-1]["rebuild"] = _run("rebuild", work, round_=i)  # on the state the cold build left
        if i == 1:
            base = _incremental_base(work, n_areas=args.areas, weeks=args.weeks)
        runs = []
        for _ in range(args.incremental_runs):  # each on the saved state: the week added after a cold build
            _restore(work, db=base / "concord.db", data=base / "data")
            runs.append(_run("incremental", work, round_=i))
        rounds[-1]["incremental"] = {**sorted(runs, key=lambda r: r["seconds"])[len(runs) // 2],
                                     "runs": [r["seconds"] for r in runs]}
        incremental_runs += runs
    problems = [p for name in ("full", "rebuild")
                for p in _same([r[name] for r in rounds], ("rows", "features", "recomputed_periods", "full", "reason"))]
    problems += _same(incremental_runs, ("rows", "features", "recomputed_periods", "full", "reason"))
    problems += [f"incremental (round {r['round']}): reason {r['reason']!r}, full={r['full']}"
                 for r in incremental_runs if r["full"] or r["reason"] != "incremental"]
    print(summarize(rounds, stages))
    for p in problems:
        print(f"WARNING {p}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
