"""Time and peak memory of ``concord simulate``: the default city and a province-sized one.

Each case runs in its own process; ``os.wait4`` returns that child's resource
usage, so the peak resident set (``ru_maxrss``) is the simulator's own.

    .venv/bin/python benchmarks/simulate_bench.py                 # both cases
    .venv/bin/python benchmarks/simulate_bench.py --case default  # only the demo city

The large case (100,000 communities x 260 weeks, Parquet) takes minutes; it
is a benchmark, not a test. Figures are recorded in docs/simulator.md.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CASES: dict[str, list[str]] = {
    "default": [],
    "large": ["--areas", "100000", "--weeks", "260", "--format", "parquet"],
}


def run_case(name: str, out: Path) -> dict[str, object]:
    """Run one case in a child process; wall time, peak RSS and the run's manifest figures."""
    argv = [sys.executable, "-c", "from api.cli import app; app()", "simulate", "--out", str(out), *CASES[name]]
    began = time.perf_counter()
    child = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - began
    output = child.stdout.read().decode() if child.stdout else ""
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{name} failed:\n{output}")
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    size = sum(p.stat().st_size for p in out.iterdir())
    return {
        "case": name, "command": "concord simulate --out DIR " + " ".join(CASES[name]),
        "seconds": round(seconds, 1), "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
        "rows": sum(manifest["rows"].values()), "bytes_on_disk_mb": round(size / 2**20, 1),
        "escalation_rate": manifest["escalation_rate"], "oracle_hit_rate_top5": manifest["oracle_hit_rate_top5"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--case", choices=[*CASES, "all"], default="all")
    parser.add_argument("--json", type=Path, help="also write the results to this JSON file")
    args = parser.parse_args()
    names = list(CASES) if args.case == "all" else [args.case]
    results = []
    for name in names:
        with tempfile.TemporaryDirectory(prefix=f"simulate-{name}-") as tmp:
            results.append(run_case(name, Path(tmp)))
            print(json.dumps(results[-1]), flush=True)
    print("\n| case | command | time (s) | peak RSS (MB) | rows | on disk (MB) | escalation rate | oracle top-5% hit |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for r in results:
        print(f"| {r['case']} | `{r['command']}` | {r['seconds']} | {r['peak_rss_mb']} | {r['rows']:,} | "
              f"{r['bytes_on_disk_mb']} | {r['escalation_rate']:.2%} | {r['oracle_hit_rate_top5']:.1%} |")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
