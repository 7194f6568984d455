"""Petitions (信访) of one week: counts from the intensities, then their fields.

Per community i and family f, petitions of the week are Poisson:
ordinary ones with mean lambda_P * (1 - q) * r_i (``r_i`` the community's
reporting share: under-reporting) and escalating ones with mean lambda_P * q,
always recorded. ``q = sigmoid(petition_escalation_logit +
petition_escalation_tension * x)``: tension raises severity as well as volume.
An escalating petition is collective (``collective_share``; 5 + Pareto people,
a quarter of them also taken above the county) or cross-level (1-4 people,
city 70% / province 25% / national 5%). Ordinary petitions have 1-4 people
and stop at community / street / county (45 / 35 / 20%). Channels differ:
escalations mostly visits. ``is_repeat`` rises with the family's recent
petitions in the community; petitions close after log-normal durations
(median 4 days by phone / online, 18 by visit / letter, capped at 90) and
satisfaction falls with tension and escalation.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from features.simulation.config import FAMILIES, F, SimulationConfig
from features.simulation.recording import days, entry_delay, make_ids, optional

CHANNELS = np.array(["visit", "letter", "phone", "online"])
CHANNEL_P_ORDINARY = (0.30, 0.20, 0.25, 0.25)
CHANNEL_P_ESCALATING = (0.70, 0.10, 0.05, 0.15)
LEVELS_LOW = np.array(["community", "street", "county"])
LEVELS_CROSS = np.array(["city", "province", "national"])


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


@dataclass(frozen=True)
class PetitionWeek:
    """The petitions of one week: file rows and the counts the state needs."""

    originals: pa.Table
    corrections: pa.Table
    counts: np.ndarray  # (n, F) petitions received
    escalations: np.ndarray  # (n, F) collective or cross-level petitions


def draw_petitions(*, rng: np.random.Generator, config: SimulationConfig, week_start: np.datetime64,
                   ids: np.ndarray, lam: np.ndarray, q: np.ndarray, reporting: np.ndarray,
                   x: np.ndarray, recent: np.ndarray, first_seq: int) -> PetitionWeek:
    """Draw the week's petitions; ``lam`` and ``q`` are (n, F), ``recent`` the decayed past counts."""
    n = lam.shape[0]
    ordinary = rng.poisson(lam * (1.0 - q) * reporting[:, None])
    escalating = rng.poisson(lam * q)
    cells = np.concatenate([np.repeat(np.arange(n * F), ordinary.ravel()),
                            np.repeat(np.arange(n * F), escalating.ravel())])
    esc = np.concatenate([np.zeros(int(ordinary.sum()), bool), np.ones(int(escalating.sum()), bool)])
    received = week_start + rng.integers(0, 7, size=len(cells)).astype("timedelta64[D]")
    order = np.lexsort((received, cells // F))
    cells, esc, received = cells[order], esc[order], received[order]
    m = len(cells)
    comm, fam = cells // F, cells % F

    channel_ord = rng.choice(4, size=m, p=CHANNEL_P_ORDINARY)
    channel_esc = rng.choice(4, size=m, p=CHANNEL_P_ESCALATING)
    channel = np.where(esc, channel_esc, channel_ord)
    collective = esc & (rng.random(m) < config.events.collective_share)
    cross = (esc & ~collective) | (collective & (rng.random(m) < 0.25))
    small = np.where(rng.random(m) < 0.8, 1, rng.integers(2, 5, size=m))
    big = np.minimum(5 + np.floor(rng.pareto(1.5, size=m) * 4), 500).astype(np.int64)
    people = np.where(collective, big, small)
    level = np.where(cross, LEVELS_CROSS[rng.choice(3, size=m, p=(0.7, 0.25, 0.05))],
                     LEVELS_LOW[rng.choice(3, size=m, p=(0.45, 0.35, 0.2))])
    repeat_p = np.clip(0.08 + 0.1 * np.log1p(recent[comm, fam]), 0.0, 0.6)
    is_repeat = rng.random(m) < repeat_p

    quick = (channel >= 2)
    duration = np.minimum(np.rint(rng.lognormal(np.where(quick, np.log(4), np.log(18)), 0.6)), 90).astype(np.int64)
    closed_on = received + duration.astype("timedelta64[D]")
    end = np.datetime64(config.end, "D")
    closed = closed_on <= end
    closed_on = np.where(closed, closed_on, np.datetime64("NaT"))
    satisfied = rng.random(m) < sigmoid(1.3 - 0.6 * x[comm, fam] - 0.8 * esc)
    recorded = received + entry_delay(rng, m, config.recording.entry_delay_probs).astype("timedelta64[D]")

    wrong = rng.random(m) < config.recording.misclassified
    shift = rng.integers(1, F, size=m)
    first_family = np.where(wrong, (fam + shift) % F, fam)
    families = np.array(FAMILIES)
    known_closed = closed & (closed_on <= recorded)
    petition_ids = make_ids("PT", first_seq, m)
    area_ids = ids[comm]

    def table(category: np.ndarray, recorded_on: np.ndarray, is_closed: np.ndarray, rows: np.ndarray) -> pa.Table:
        return pa.table({
            "petition_id": petition_ids.filter(pa.array(rows)) if not rows.all() else petition_ids,
            "area_id": pa.array(area_ids[rows], type=pa.string()),
            "received_on": days(received[rows]),
            "category": pa.array(families[category[rows]], type=pa.string()),
            "recorded_on": days(recorded_on[rows]),
            "channel": pa.array(CHANNELS[channel[rows]], type=pa.string()),
            "people": pa.array(people[rows], type=pa.int64()),
            "level_reached": pa.array(level[rows], type=pa.string()),
            "is_repeat": pa.array(is_repeat[rows], type=pa.bool_()),
            "status": pa.array(np.where(is_closed[rows], "closed", "in_progress"), type=pa.string()),
            "closed_on": days(np.where(is_closed, closed_on, np.datetime64("NaT"))[rows]),
            "satisfied": optional(satisfied[rows], ~is_closed[rows], pa.bool_()),
        })

    originals = table(first_family, recorded, known_closed, np.ones(m, bool))
    needs = wrong | (closed & ~known_closed)
    later = np.where(closed & ~known_closed, closed_on, recorded + rng.integers(7, 36, size=m).astype("timedelta64[D]"))
    later = later + rng.integers(0, config.recording.update_delay_max_days + 1, size=m).astype("timedelta64[D]")
    later = np.maximum(later, recorded + np.timedelta64(1, "D"))
    corrections = table(fam, later, closed, needs)
    counts = np.bincount(cells, minlength=n * F).reshape(n, F)
    escalations = np.bincount(cells[esc], minlength=n * F).reshape(n, F)
    return PetitionWeek(originals, corrections, counts, escalations)
