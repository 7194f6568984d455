"""Benchmark the scoring service under a real load generator (wrk) on 127.0.0.1.

    .venv/bin/python benchmarks/api_bench.py [--areas 5000] [--duration 10] [--rate 200] [--workers N] [--cache-seconds S]

Set-up: a PostgreSQL schema ``concord_bench`` on the machine's server
(127.0.0.1:5432, database ``test``) holding a city of ``--areas`` communities
under 50 streets, one registered and serving model, and its scores for one
week with five reasons and 30 expected counts per area (as ``concord score``
writes them). The service runs under uvicorn (one worker, production
settings: ``CONCORD_ENV=production``, authentication and auditing on, every
request appends an audit row, committed before the answer leaves). Tokens,
the serving model and the period's ranking are kept ``--cache-seconds``
(the production default, 2; 0 asks the database on every request), as in
docs/adr/0013. The same process also serves a trivial
endpoint, ``/bench/trivial``, the reference for the ratios.

For each of the trivial endpoint, ``GET /v1/hotspots?limit=50`` and
``GET /v1/areas/{id}/score`` (a random area per request), wrk measures:

- throughput: as fast as it can, 2 threads × 16 connections;
- latency at ``--rate`` requests per second: 2 threads × 12 connections, each
  pausing between requests so the offered rate is about ``--rate``; p50/p99
  from wrk's latency distribution, and the rate actually achieved. Twice:
  with a fixed pause (the 12 connections stay in lock-step, so requests
  arrive in bursts of up to 12 at once — a worst case), and with a pause
  drawn uniformly from 0 to twice that (the same mean rate, arrivals spread
  out as independent users' are).

Needs Debian's ``wrk`` (``apt-get install wrk``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import numpy as np
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from api.security import add_user  # noqa: E402
from features.storage import make_engine, upgrade  # noqa: E402
from features.storage.tables import areas, load_batches, scores  # noqa: E402
from models import registry  # noqa: E402

PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
SCHEMA = "concord_bench"
PERIOD = dt.date(2025, 12, 29)
FAMILIES = ["labour_wages", "land_demolition", "neighbour_rights", "marriage_family", "environment",
            "private_lending", "medical", "social_security", "consumer_prices", "personal_injury",
            "rural_land", "traffic_compensation", "enterprise_restructuring", "other"]


def bench_app():  # noqa: ANN201 - uvicorn factory
    """The production app plus a trivial endpoint served by the same process."""
    from api.app import create_app
    from api.settings import Settings

    app = create_app(Settings())

    @app.get("/bench/trivial", include_in_schema=False)
    def trivial() -> dict:
        return {"ok": True}

    return app


def schema_url() -> str:
    return sa.make_url(PG).update_query_dict({"options": f"-csearch_path={SCHEMA}"}).render_as_string(hide_password=False)


def populate(n_areas: int, data_dir: Path) -> str:
    admin = make_engine(PG)
    with admin.begin() as connection:
        connection.execute(sa.text(f'DROP SCHEMA IF EXISTS "{SCHEMA}" CASCADE'))
        connection.execute(sa.text(f'CREATE SCHEMA "{SCHEMA}"'))
    admin.dispose()
    engine = make_engine(schema_url())
    upgrade(engine)
    rng = np.random.default_rng(0)
    now = dt.datetime.now(dt.UTC)
    streets = 50
    rows = [dict(area_id="X0", name="基准市", parent_id=None, level="city")]
    rows += [dict(area_id=f"S{s:03d}", name=f"街道{s}", parent_id="X0", level="street") for s in range(streets)]
    rows += [dict(area_id=f"C{c:05d}", name=f"社区{c}", parent_id=f"S{c % streets:03d}", level="community") for c in range(n_areas)]
    with engine.begin() as connection:
        batch = connection.execute(load_batches.insert().values(
            kind="areas", source="bench", sha256="0" * 64, rows_in=len(rows), rows_added=len(rows), rows_corrected=0,
            rows_unchanged=0, loaded_at=now, loaded_by="bench")).inserted_primary_key[0]
        connection.execute(areas.insert(), [dict(r, content_hash=r["area_id"], batch_id=batch) for r in rows])
    model = registry.register(engine, registry_dir=data_dir / "registry", artifact={"bench": True},
                              manifest={"training_window": ["2023-01-02", "2025-12-22"]})
    registry.promote(engine, model.version)
    probability = rng.beta(0.6, 12, size=n_areas)
    score_rows = []
    for c in range(n_areas):
        reasons = [{"feature": f"pet_{FAMILIES[(c + j) % 13]}_n_13w", "description": "Petitions in the last 13 weeks.",
                    "standing": round(float(rng.normal(2, 1)), 2), "contribution": round(float(rng.uniform(0, 0.05)), 4),
                    "text": "Petitions of the family in the last 13 weeks: 12 (typical area <5)"} for j in range(5)]
        expected = {f"{target}:{family}": {"expected": 0.4, "lower": 0.0, "upper": 2.0, "window": 1}
                    for target in ("petitions", "mediation") for family in FAMILIES}
        expected |= {"petitions": {"expected": 2.1, "lower": 0.0, "upper": 5.0, "window": 1}}
        p = float(probability[c])
        score_rows.append(dict(area_id=f"C{c:05d}", period_start=PERIOD, model_version=model.version, probability=p,
                               level="high" if p >= 0.2 else "medium" if p >= 0.08 else "low", reasons=reasons,
                               expected=expected, scored_at=now))
    with engine.begin() as connection:
        connection.execute(scores.insert(), score_rows)
    token = add_user(engine, name="bench-officer", role="officer", region_id="X0")
    with engine.begin() as connection:  # what autovacuum would do after a bulk load
        connection.execute(sa.text("ANALYZE"))
    engine.dispose()
    return token


LUA = """
local token = "{token}"
local areas = {areas}
local pause = {pause}
local jitter = {jitter}
math.randomseed(os.time())
request = function()
  local path = "{path}"
  if path == "score" then path = string.format("/v1/areas/C%05d/score", math.random(0, areas - 1)) end
  return wrk.format("GET", path, {{["Authorization"] = "Bearer " .. token}})
end
delay = function()
  if jitter then return math.random(0, 2 * pause) end
  return pause
end
"""


def run_wrk(
    base: str, path: str, *, token: str, areas_n: int, threads: int, connections: int, duration: int, pause: int,
    jitter: bool = False,
) -> dict:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(LUA.format(token=token, areas=areas_n, pause=pause, path=path, jitter=str(jitter).lower()))
    out = subprocess.run(["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{duration}s", "--latency",
                          "-s", script.name, base], capture_output=True, text=True, timeout=duration + 60).stdout
    os.unlink(script.name)
    def ms(label: str) -> float:
        match = re.search(rf"^\s*{label}\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        value, unit = float(match.group(1)), match.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)), "p50_ms": ms("50%"), "p99_ms": ms("99%"),
            "non_2xx": int(errors.group(1)) if errors else 0}


def wait_ready(base: str, timeout: float = 60) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(base + "/readyz", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise SystemExit("the service did not become ready")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--areas", type=int, default=5000)
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--rate", type=int, default=200, help="offered requests per second for the latency runs")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    parser.add_argument("--cache-seconds", type=float, default=None,
                        help="the service's cache_seconds (default: the setting's default)")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (apt-get install wrk)")
    data_dir = Path(tempfile.mkdtemp(prefix="concord-api-bench-"))
    token = populate(args.areas, data_dir)
    env = dict(os.environ, CONCORD_ENV="production", CONCORD_HASH_KEY="bench-secret-" + "x" * 20,
               CONCORD_DATABASE_URL=schema_url(), CONCORD_DATA_DIR=str(data_dir), PYTHONPATH=str(ROOT))
    if args.cache_seconds is not None:
        env["CONCORD_CACHE_SECONDS"] = str(args.cache_seconds)
    server = subprocess.Popen([sys.executable, "-m", "uvicorn", "--factory", "benchmarks.api_bench:bench_app",
                               "--host", "127.0.0.1", "--port", str(args.port), "--workers", str(args.workers), "--no-access-log",
                               "--log-level", "warning"], cwd=ROOT, env=env)
    base = f"http://127.0.0.1:{args.port}"
    results: dict[str, dict] = {}
    try:
        wait_ready(base)
        connections = 12
        pause_ms = max(1, int(1000 * connections / args.rate) - 2)
        for name, path in (("trivial", "/bench/trivial"), ("hotspots", "/v1/hotspots?limit=50"), ("score", "score")):
            run_wrk(base, path, token=token, areas_n=args.areas, threads=1, connections=4, duration=2, pause=0)  # warm-up
            peak = run_wrk(base, path, token=token, areas_n=args.areas, threads=2, connections=16, duration=args.duration, pause=0)
            paced = run_wrk(base, path, token=token, areas_n=args.areas, threads=2, connections=connections,
                            duration=args.duration, pause=pause_ms)
            spread = run_wrk(base, path, token=token, areas_n=args.areas, threads=2, connections=connections,
                             duration=args.duration, pause=pause_ms, jitter=True)
            results[name] = {"throughput_rps": peak["rps"], "peak_p99_ms": peak["p99_ms"], "paced_rps": paced["rps"],
                             "paced_p50_ms": paced["p50_ms"], "paced_p99_ms": paced["p99_ms"],
                             "random_rps": spread["rps"], "random_p50_ms": spread["p50_ms"], "random_p99_ms": spread["p99_ms"],
                             "non_2xx": peak["non_2xx"] + paced["non_2xx"] + spread["non_2xx"]}
            print(name, json.dumps(results[name]), flush=True)
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(timeout=30)
        shutil.rmtree(data_dir, ignore_errors=True)
    trivial = results["trivial"]["throughput_rps"]
    for name in ("hotspots", "score"):
        r = results[name]
        print(f"{name}: {r['throughput_rps']:.0f} req/s = {r['throughput_rps'] / trivial:.2f} of trivial "
              f"({trivial:.0f} req/s); lock-step at {r['paced_rps']:.0f} req/s p50 {r['paced_p50_ms']:.1f} ms, "
              f"p99 {r['paced_p99_ms']:.1f} ms; random pauses at {r['random_rps']:.0f} req/s p50 {r['random_p50_ms']:.1f} ms, "
              f"p99 {r['random_p99_ms']:.1f} ms; non-2xx {r['non_2xx']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
