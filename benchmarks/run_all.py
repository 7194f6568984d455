"""Run every benchmark of this folder in turn, with its defaults (`make bench`).

Each script prints its own figures and how they compare with the reference
it measures in the same run; docs/benchmarks.md records them. Some take
tens of minutes (the 5,000-community builds); pass names to run a subset:

    .venv/bin/python benchmarks/run_all.py api_bench features_bench
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(names: list[str]) -> int:
    scripts = sorted(path for path in HERE.glob("*_bench.py"))
    if names:
        scripts = [path for path in scripts if path.stem in names]
    failed = []
    for script in scripts:
        print(f"== {script.stem}", flush=True)
        start = time.perf_counter()
        if subprocess.run([sys.executable, str(script)], cwd=HERE.parent).returncode != 0:
            failed.append(script.stem)
        print(f"== {script.stem}: {time.perf_counter() - start:.0f} s", flush=True)
    print(f"{len(scripts) - len(failed)} of {len(scripts)} benchmarks ran" + (f"; failed: {', '.join(failed)}" if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
