"""Historical analogues: past decisions of the proposal's type, how similar they are, and what followed.

Similarity is exp(-d), d the distance on what the history shows matters
for the size of an effect (the modifiers of pooled.py) and on the size of
the decision: households affected (log), compensation shortfall, whether
a hearing was held, and the number of areas (log). 1 is identical; 0.37
is one scale unit away (a factor e in households, a shortfall 0.25 larger,
or the other hearing status). Every analogue of the type enters the pooled
estimate; the similarity orders the list a reviewer reads and says how
closely the history matches this proposal.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from models.policy.pooled import covariates

SCALES = {"log_households": 1.0, "compensation_shortfall": 0.25, "no_hearing": 1.0, "log_areas": 1.0}


def similarity(decisions: pd.DataFrame, proposal: pd.DataFrame, *, proposal_areas: int) -> np.ndarray:
    """exp(-distance) of each decision (with ``listed_areas``) to the one-row proposal."""
    x, x0 = covariates(decisions), covariates(proposal).iloc[0]
    d2 = sum(((x[name] - x0[name]) / SCALES[name]) ** 2 for name in ("log_households", "compensation_shortfall", "no_hearing"))
    d2 = d2 + ((np.log(decisions["listed_areas"].astype(float)) - np.log(max(proposal_areas, 1))) / SCALES["log_areas"]) ** 2
    return np.exp(-np.sqrt(d2.to_numpy(float)))


def analogues(effects: pd.DataFrame, *, policy_type: str, families: list[str], proposal: pd.DataFrame,
              proposal_areas: int, limit: int = 10) -> pd.DataFrame:
    """The ``limit`` most similar past decisions of the type, with their effect on ``families``."""
    same = effects[(effects["type"] == policy_type) & effects["family"].isin(families)]
    if same.empty:
        return pd.DataFrame(columns=["policy_id", "similarity"])
    per = same.drop_duplicates("policy_id").set_index("policy_id")
    per = per.assign(similarity=similarity(per, proposal, proposal_areas=proposal_areas))
    top = per.sort_values(["similarity", "announced_on"], ascending=[False, False]).head(limit)
    rows = []
    for pid, decision in top.iterrows():
        outcomes = same[same["policy_id"] == pid].set_index("family")
        rows.append({
            "policy_id": pid, "similarity": float(decision["similarity"]),
            "announced_on": pd.Timestamp(decision["announced_on"]).date(),
            "effective_on": pd.Timestamp(decision["effective_on"]).date(),
            "households_affected": None if pd.isna(decision["households_affected"]) else int(decision["households_affected"]),
            "compensation_ratio": None if pd.isna(decision["compensation_ratio"]) else float(decision["compensation_ratio"]),
            "hearing_held": None if pd.isna(decision["hearing_held"]) else bool(decision["hearing_held"]),
            "listed_areas": int(decision["listed_areas"]), "exposed_areas": int(decision["exposed_areas"]),
            "outcomes": [{
                "family": family, "estimate": float(row["estimate"]), "lower": float(row["lower"]),
                "upper": float(row["upper"]), "exposed_pre": int(row["exposed_pre"]),
                "exposed_post": int(row["exposed_post"]), "pre_weeks": int(row["pre_weeks"]),
                "post_weeks": int(row["post_weeks"]),
            } for family, row in outcomes.iterrows()],
        })
    return pd.DataFrame(rows)
