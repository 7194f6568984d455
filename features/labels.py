"""Label specifications: what event a model forecasts for each area and period.

The default is the escalation of DESIGN.md (docs/adr/0003-escalation-label.md):
a collective petition (``people >= COLLECTIVE_MIN_PEOPLE``), a cross-level
petition (``level_reached`` in ``CROSS_LEVELS``) or a failed mediation of a
serious dispute. The alternative counts petitions of a category set against a
threshold. The predicates live here once and serve both the labels (latest
known versions) and the lagged-escalation features (versions known at t).

Timing (docs/adr/0003): the row of period t holds features known when t
starts; its label covers the outcome periods t + LABEL_OFFSET ..
t + LABEL_OFFSET + horizon - 1, so horizon 1 asks "does an escalation happen
in the period about to begin?".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

from features.contracts import (
    COLLECTIVE_MIN_PEOPLE,
    CROSS_LEVELS,
    SERIOUS_FAMILIES,
    SERIOUS_MIN_AMOUNT,
    SERIOUS_MIN_PARTIES,
)

#: First outcome period relative to the row's period (see the module docstring).
LABEL_OFFSET = 0


@dataclass(frozen=True)
class LabelSpec:
    """The event to forecast; mirrors ``api.settings.LabelSettings``."""

    kind: Literal["escalation", "category_count"] = "escalation"
    horizon: int = 1
    categories: tuple[str, ...] = field(default=())
    threshold: int = 1

    def __post_init__(self) -> None:
        if self.kind not in ("escalation", "category_count"):
            raise ValueError(f"label kind must be 'escalation' or 'category_count', not {self.kind!r}")
        if not 1 <= self.horizon <= 4:
            raise ValueError(f"label horizon must be 1 to 4 periods, not {self.horizon}")
        if self.threshold < 1:
            raise ValueError(f"label threshold must be at least 1, not {self.threshold}")
        if self.kind == "category_count" and not self.categories:
            raise ValueError("a category_count label needs at least one category")
        object.__setattr__(self, "categories", tuple(self.categories))

    def describe(self) -> str:
        span = "the next period" if self.horizon == 1 else f"the next {self.horizon} periods"
        if self.kind == "escalation":
            return f"an escalation in {span}"
        return f"at least {self.threshold} petitions of {', '.join(self.categories)} in {span}"


def collective(people: pd.Series) -> np.ndarray:
    """集体访: five or more petitioners; unknown counts are not collective."""
    return (people.fillna(0).to_numpy(dtype=np.float64) >= COLLECTIVE_MIN_PEOPLE)


def cross_level(level_reached: pd.Series) -> np.ndarray:
    """越级访: taken to a level above the area's own county."""
    return level_reached.isin(CROSS_LEVELS).to_numpy()


def serious_dispute(mediation: pd.DataFrame) -> np.ndarray:
    """A serious dispute: a serious family, many parties or a large amount (unknown counts as not)."""
    return (
        mediation["dispute_type"].isin(SERIOUS_FAMILIES).to_numpy()
        | (mediation["parties"].fillna(0).to_numpy(dtype=np.float64) >= SERIOUS_MIN_PARTIES)
        | (mediation["amount"].fillna(0).to_numpy(dtype=np.float64) >= SERIOUS_MIN_AMOUNT)
    )


def failed_serious(mediation: pd.DataFrame) -> np.ndarray:
    """A failed mediation of a serious dispute: the third escalation route."""
    return (mediation["outcome"] == "failed").to_numpy() & serious_dispute(mediation)


def failure_date(mediation: pd.DataFrame) -> pd.Series:
    """A failure happens when the mediation ends; without a closing date, when it opened."""
    return mediation["closed_on"].fillna(mediation["opened_on"])


def event_date(frame: pd.DataFrame, *, kind: str) -> pd.Series:
    """When a record's label event happens: a petition when received, a mediation failure when it ends."""
    return frame["received_on"] if kind == "petitions" else failure_date(frame)


def event_weights(spec: LabelSpec, *, petitions: pd.DataFrame, mediation: pd.DataFrame | None) -> list[tuple[pd.Series, np.ndarray, np.ndarray]]:
    """(area_id, event date, weight) triples whose per-period sums make the label: petitions' first, then mediation's.

    The weight is 1 for every event the label counts. The frames may hold
    several versions of a record: the caller decides which count
    (``assemble.label_events`` zeroes the weight of all but the latest).
    """
    if spec.kind == "category_count":
        hit = petitions["category"].isin(spec.categories).to_numpy()
        return [(petitions["area_id"], event_date(petitions, kind="petitions").to_numpy(), hit.astype(np.float64))]
    out = [(petitions["area_id"], event_date(petitions, kind="petitions").to_numpy(),
            (collective(petitions["people"]) | cross_level(petitions["level_reached"])).astype(np.float64))]
    if mediation is not None and len(mediation):
        out.append((mediation["area_id"], event_date(mediation, kind="mediation").to_numpy(),
                    failed_serious(mediation).astype(np.float64)))
    return out


def label_from_events(events: np.ndarray, *, spec: LabelSpec, observed_periods: int) -> np.ndarray:
    """The label of every (area, period) from per-period event counts.

    ``events`` is [areas, periods] counts of label events by outcome period;
    ``observed_periods`` is how many leading periods are complete. Rows whose
    outcome window is not complete get NaN. Made period-major and returned
    transposed: the stored label column (every area of a period together) is
    then that memory as it is, and each window's total is a difference of
    two row slices, not of two gathered copies (on the benchmark city every
    10 MB copy is ~2,500 page faults).
    """
    n_areas, n_periods = events.shape
    cumulated = np.zeros((n_periods + LABEL_OFFSET + spec.horizon + 1, n_areas), dtype=np.float64)
    np.cumsum(events.T, axis=0, out=cumulated[1 : n_periods + 1])
    cumulated[n_periods + 1 :] = cumulated[n_periods]
    first = LABEL_OFFSET  # the label of period p counts the events of periods p + LABEL_OFFSET .. + horizon - 1
    label = cumulated[first + spec.horizon : first + spec.horizon + n_periods] - cumulated[first : first + n_periods]
    threshold = 1 if spec.kind == "escalation" else spec.threshold
    np.greater_equal(label, threshold, out=label)
    label[max(0, observed_periods - first - spec.horizon + 1) :] = np.nan  # outcome window not yet complete
    return label.T


def label_observed_at(starts: pd.DatetimeIndex, *, period: str, horizon: int) -> np.ndarray:
    """Each period's ``label_observed_at``: when its label's outcome window has ended."""
    step = pd.DateOffset(months=LABEL_OFFSET + horizon) if period == "month" else pd.Timedelta(weeks=LABEL_OFFSET + horizon)
    return (pd.DatetimeIndex(starts) + step).to_numpy(dtype="datetime64[ns]")
