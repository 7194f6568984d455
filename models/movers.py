"""Biggest movers: the areas whose level or probability changed most since the last period, and why.

"What changed" is what an officer reads first. Both periods are scored by
the same model, so a move reflects the records, never a model change; the
why is the features whose contributions moved the probability most.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from models.levels import assign_levels
from models.score import Explained
from models.targets import HISTORY_TEXT

LEVEL_RANK = {"low": 0, "medium": 1, "high": 2}


def previous_period(panel: pd.DataFrame, period: pd.Timestamp) -> pd.Timestamp | None:
    earlier = panel.loc[panel["period_start"] < period, "period_start"]
    return None if earlier.empty else pd.Timestamp(earlier.max())


def biggest_movers(
    now: Explained, before: Explained, *, feature_names: list[str], describe: Mapping[str, str], high: float,
    medium: float, top: int = 10,
) -> list[dict]:
    """Up to ``top`` areas, level changes first, then by the size of the change in probability."""
    words = {**HISTORY_TEXT, **describe}
    ids_now = now.frame["area_id"].astype(str).to_numpy()
    position = pd.Series(np.arange(len(before.frame)), index=before.frame["area_id"].astype(str).to_numpy())
    prior = position.reindex(ids_now).to_numpy()
    keep = ~np.isnan(prior)
    if not keep.any():
        return []
    rows, prior = np.flatnonzero(keep), prior[keep].astype(int)
    p_now, p_before = now.probability[rows], before.probability[prior]
    level_now = assign_levels(p_now, high=high, medium=medium)
    level_before = assign_levels(p_before, high=high, medium=medium)
    shift = np.array([LEVEL_RANK[a] - LEVEL_RANK[b] for a, b in zip(level_now, level_before, strict=True)])
    change = p_now - p_before
    order = np.lexsort((-np.abs(change), -np.abs(shift)))[:top]
    delta = now.contributions[rows] - before.contributions[prior]
    out = []
    for k in order:
        direction = np.sign(change[k]) or 1.0
        drivers = [j for j in np.argsort(-direction * delta[k])[:2] if direction * delta[k, j] > 0]
        why = "; ".join(f"{words.get(feature_names[j], feature_names[j]).rstrip('.')} "
                        f"({delta[k, j] * 100:+.1f} points)" for j in drivers)
        out.append({
            "area_id": ids_now[rows[k]], "probability": round(float(p_now[k]), 4),
            "previous": round(float(p_before[k]), 4), "change": round(float(change[k]), 4),
            "level": str(level_now[k]), "previous_level": str(level_before[k]), "why": why or "many small changes",
        })
    return out
