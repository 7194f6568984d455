"""Cost of a policy review on the default demo city (300 communities x 156 weeks).

Times the three stages separately: building the history from the records,
estimating every past decision's effect (done once per snapshot of the
records and cached by the service), and assessing one proposal (every
request). Run:

    .venv/bin/python benchmarks/policy_review_bench.py

Figures are quoted in docs/policy-review.md.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from features.simulation import SimulationConfig
from models.policy.effects import estimate_effects
from models.policy.proposal import Mitigation, Proposal
from models.policy.report import render_html, render_pdf
from models.policy.review import Context, ReviewParams, assess
from tests.review.factories import communities, history_of, simulated


def main() -> None:
    config = SimulationConfig()
    city = simulated(config)
    timings = {}
    began = time.perf_counter()
    history = history_of(city.frames, config)
    timings["history_s"] = time.perf_counter() - began
    began = time.perf_counter()
    effects = estimate_effects(history)
    timings["effects_s"] = time.perf_counter() - began
    proposal = Proposal(title="bench", policy_type="land_requisition", areas=tuple(communities(city.frames)[:6]),
                        announce_on=dt.date(2026, 3, 2), effective_on=dt.date(2026, 6, 1), households_affected=800,
                        compensation_ratio=0.85, hearing_held=False, opposed_share=0.25,
                        mitigations=(Mitigation("hold_hearing"),))
    began = time.perf_counter()
    result = assess(history, effects, proposal, params=ReviewParams(), context=Context(as_of=dt.date(2026, 1, 1)))
    timings["assess_s"] = time.perf_counter() - began
    view = {"review_id": "bench", "version": 1, "title": "bench", "policy_type": "land_requisition",
            "created_by": "bench", "created_at": "now", "proposal": {
                "type": "land_requisition", "areas": list(proposal.areas), "announce_on": "2026-03-02",
                "effective_on": "2026-06-01", "consultation": {}}, "result": result}
    began = time.perf_counter()
    render_html(view)
    render_pdf(view)
    timings["report_s"] = time.perf_counter() - began
    timings.update(decisions=len(history.decisions), assessed=int(effects["policy_id"].nunique()),
                   records=int(history.counts.sum()))
    print(json.dumps({k: round(v, 2) if isinstance(v, float) else v for k, v in timings.items()}))


if __name__ == "__main__":
    main()
