# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#   kernelspec:
#     name: python3
#     display_name: Python 3
# ---

# %% [markdown]
# # 01 — A simulated city, seen through the panel
#
# What the records of a simulated city look like once they are loaded and
# turned into the area × week panel: how rare escalations are, when the
# labour-wage disputes peak (the weeks before the Spring Festival), and how
# concentrated activity is across communities. Plain Python in the percent
# format (open it in Jupyter with jupytext); the test suite executes it with
# a small city (`tests/code/test_notebooks.py`).

# %%
import os
import tempfile
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from features.calendar import days_to_spring_festival
from features.load_directory import load_directory
from features.pipeline import PanelSpec, build_panel
from features.simulation import SimulationConfig, simulate
from features.storage import make_engine, upgrade

COMMUNITIES = int(os.environ.get("NOTEBOOK_COMMUNITIES", "200"))
WEEKS = int(os.environ.get("NOTEBOOK_WEEKS", "156"))
OUT = Path(os.environ.get("NOTEBOOK_OUT", tempfile.mkdtemp(prefix="concord-nb01-")))

# %%
city = OUT / "city"
summary = simulate(SimulationConfig(communities=COMMUNITIES, weeks=WEEKS, seed=1), city, "parquet")
engine = make_engine(f"sqlite:///{OUT / 'concord.db'}")
upgrade(engine)
reports = load_directory(engine, city, hash_key=b"notebook", loaded_by="notebook")
panel = build_panel(engine, spec=PanelSpec())
print(f"{len(panel):,} community-weeks, escalation rate {panel['label'].mean():.2%} "
      f"(simulator's truth: {summary.escalation_rate:.2%})")

# %% [markdown]
# Escalations are rare and concentrated: most communities are quiet.

# %%
per_area = panel.groupby("area_id", observed=True)["label"].sum().sort_values(ascending=False)
top_decile_share = per_area.head(max(1, len(per_area) // 10)).sum() / per_area.sum()
print(f"the busiest 10% of communities hold {top_decile_share:.0%} of escalations")

# %% [markdown]
# Labour and wage petitions by days to the Spring Festival.

# %%
wage_column = next(c for c in panel.columns if c.startswith("pet_labour_wages_n_"))
panel["days_to_festival"] = days_to_spring_festival(panel["period_start"])
by_distance = panel.groupby(panel["days_to_festival"] // 14 * 14)[wage_column].mean()
fig, axes = plt.subplots(1, 2, figsize=(11, 3.5))
by_distance.plot(ax=axes[0], marker="o")
axes[0].set(xlabel="days to the Spring Festival (fortnights)", ylabel=f"mean {wage_column}", title="Wage arrears season")
panel.groupby("period_start")["label"].mean().plot(ax=axes[1])
axes[1].set(xlabel="week", ylabel="share of communities escalating", title="Escalation rate by week")
fig.tight_layout()
fig.savefig(OUT / "overview.png", dpi=80)
peak = by_distance.idxmax()
print(f"wage petitions peak {peak}–{peak + 13} days before the festival; figure: {OUT / 'overview.png'}")
