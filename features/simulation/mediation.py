"""Mediation cases (人民调解): openings, a backlog, closings and outcomes.

New cases of family f in community i per week: reported ones Poisson with
mean lambda_M * (1 - screened_share) * r_i (under-reported like petitions),
plus disputes found by screening, Poisson lambda_M * screened_share / 0.7 of
which Binomial 70% reach mediation (Nantong: ~70% of screened disputes were
mediated). A case is *serious* if its family is serious (contracts.SERIOUS_FAMILIES)
or, with ``serious_share``, it has >= 5 parties or >= 100,000 yuan at stake.

Durations are geometric in weeks with family hazard ``close_hazard`` (0 weeks
with probability h): open cases wait in a backlog, and a case open at the
start of a week closes in it with probability h whatever its age. The
outcome is drawn when the case closes, from that week's tension:
failed with ``pi = sigmoid(fail_logit + fail_tension * x)``, otherwise
referred (``referred_share``) or agreement. Cases still open at the end stay
``pending``. Records are entered as described in recording.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from features.contracts import SERIOUS_FAMILIES, SERIOUS_MIN_AMOUNT
from features.simulation.config import FAMILIES, F, SimulationConfig, family_vector
from features.simulation.recording import days, entry_delay, ids_from, optional

SERIOUS = np.isin(np.array(FAMILIES), SERIOUS_FAMILIES)
AMOUNT_MEDIAN = family_vector({
    "marriage_family": 20_000, "neighbour_rights": 2_000, "personal_injury": 20_000, "rural_land": 10_000,
    "private_lending": 30_000, "labour_wages": 15_000, "medical": 30_000, "environment": 10_000,
    "land_demolition": 150_000, "traffic_compensation": 40_000, "consumer_prices": 3_000,
    "enterprise_restructuring": 80_000, "social_security": 8_000,
})
AMOUNT_MISSING = family_vector({"marriage_family": 0.6, "neighbour_rights": 0.7, "environment": 0.5}, 0.1)
_FIELDS = ("seq", "comm", "fam", "opened", "close_week", "close_day", "parties", "amount", "screened",
           "at_close", "delay")


def hazards(config: SimulationConfig) -> np.ndarray:
    return family_vector(config.events.close_hazard, config.events.default_close_hazard)


def serious_share(config: SimulationConfig) -> np.ndarray:
    return np.where(SERIOUS, 1.0, config.events.serious_share)


@dataclass
class Backlog:
    """Open cases, one entry per case, in parallel arrays (bounded by the closing hazard)."""

    cols: dict[str, np.ndarray] = field(default_factory=lambda: {
        "seq": np.zeros(0, np.int64), "comm": np.zeros(0, np.int64), "fam": np.zeros(0, np.int64),
        "opened": np.zeros(0, "datetime64[D]"), "close_week": np.zeros(0, np.int64),
        "close_day": np.zeros(0, np.int64), "parties": np.zeros(0, np.int64), "amount": np.zeros(0),
        "screened": np.zeros(0, bool), "at_close": np.zeros(0, bool), "delay": np.zeros(0, np.int64),
    })
    next_seq: int = 1
    screened_found: int = 0
    screened_mediated: int = 0

    def serious_open(self, n: int) -> np.ndarray:
        """(n, F) open serious cases: the backlog part of the escalation risk."""
        c = self.cols
        serious = SERIOUS[c["fam"]] | (c["parties"] >= 5) | (np.nan_to_num(c["amount"]) >= SERIOUS_MIN_AMOUNT)
        return np.bincount(c["comm"][serious] * F + c["fam"][serious], minlength=n * F).reshape(n, F)

    def open_counts(self, n: int) -> np.ndarray:
        return np.bincount(self.cols["comm"] * F + self.cols["fam"], minlength=n * F).reshape(n, F)

    def open_cases(self, *, rng: np.random.Generator, config: SimulationConfig, week: int,
                   week_start: np.datetime64, lam: np.ndarray, reporting: np.ndarray) -> None:
        """Add the week's new cases ((n, F) intensity ``lam``) to the backlog."""
        ev = config.events
        n = lam.shape[0]
        reported = rng.poisson(lam * (1 - ev.screened_share) * reporting[:, None])
        found = rng.poisson(lam * ev.screened_share / ev.screened_mediated)
        screened = rng.binomial(found, ev.screened_mediated)
        self.screened_found += int(found.sum())
        self.screened_mediated += int(screened.sum())
        cells = np.concatenate([np.repeat(np.arange(n * F), reported.ravel()), np.repeat(np.arange(n * F), screened.ravel())])
        origin = np.concatenate([np.zeros(int(reported.sum()), bool), np.ones(int(screened.sum()), bool)])
        m = len(cells)
        comm, fam = cells // F, cells % F
        dow = rng.integers(0, 7, size=m)
        h = hazards(config)[fam]
        wait = rng.geometric(h) - 1
        close_day = np.where(wait == 0, dow + np.floor(rng.random(m) * (7 - dow)).astype(np.int64),
                             rng.integers(0, 7, size=m))
        size_serious = ~SERIOUS[fam] & (rng.random(m) < ev.serious_share)
        by_parties = size_serious & (rng.random(m) < 0.5)
        parties = np.where(rng.random(m) < 0.75, 2, rng.integers(3, 5, size=m))
        parties = np.where(SERIOUS[fam], 2 + rng.poisson(0.8, size=m), parties)
        parties = np.where(by_parties, 5 + rng.poisson(3, size=m), parties)
        amount = rng.lognormal(np.log(AMOUNT_MEDIAN[fam]), 1.0)
        amount = np.where(SERIOUS[fam], amount, np.minimum(amount, SERIOUS_MIN_AMOUNT - 1))
        amount = np.where(size_serious & ~by_parties, SERIOUS_MIN_AMOUNT * (1 + rng.pareto(2.0, size=m)), amount)
        amount = np.where((rng.random(m) < AMOUNT_MISSING[fam]) & ~(size_serious & ~by_parties), np.nan,
                          np.round(amount, 2))
        new = {
            "seq": np.arange(self.next_seq, self.next_seq + m, dtype=np.int64), "comm": comm, "fam": fam,
            "opened": week_start + dow.astype("timedelta64[D]"), "close_week": week + wait, "close_day": close_day,
            "parties": parties.astype(np.int64), "amount": amount, "screened": origin,
            "at_close": rng.random(m) < config.recording.mediation_entered_at_close,
            "delay": entry_delay(rng, m, config.recording.entry_delay_probs),
        }
        self.next_seq += m
        self.cols = {k: np.concatenate([self.cols[k], new[k]]) for k in _FIELDS}

    def close_cases(self, *, rng: np.random.Generator, config: SimulationConfig, week: int, week_start: np.datetime64,
                    ids: np.ndarray, fail_p: np.ndarray, final: bool = False) -> tuple[pa.Table, pa.Table, dict[str, np.ndarray]]:
        """Close this week's cases (or, if ``final``, write every open one as pending).

        Returns the original rows, the correction rows and (n, F) counts of
        agreements, failures and serious failures.
        """
        c = self.cols
        n = len(ids)
        closing = np.ones(len(c["seq"]), bool) if final else c["close_week"] == week
        k = {key: v[closing] for key, v in c.items()}
        self.cols = {key: v[~closing] for key, v in c.items()}
        m = len(k["seq"])
        if final:
            outcome = np.full(m, "pending")
            closed_on = np.full(m, np.datetime64("NaT"), "datetime64[D]")
        else:
            u = rng.random(m)
            pi = fail_p[k["comm"], k["fam"]]
            outcome = np.where(u < pi, "failed",
                               np.where(u < pi + (1 - pi) * config.events.referred_share, "referred", "agreement"))
            closed_on = week_start + k["close_day"].astype("timedelta64[D]")
        is_closed = ~np.isnat(closed_on)
        entered = k["opened"] + k["delay"].astype("timedelta64[D]")
        update = np.where(is_closed, closed_on, entered) + rng.integers(
            0, config.recording.update_delay_max_days + 1, size=m).astype("timedelta64[D]")
        # one version when filed at closing or entered after it closed; else pending then corrected
        single = ~is_closed | k["at_close"] | (closed_on <= entered)
        rec_single = np.where(k["at_close"] & is_closed, np.maximum(update, k["opened"]), entered)
        case_ids = ids_from("MC", k["seq"])
        families = np.array(FAMILIES)

        def table(rows: np.ndarray, recorded: np.ndarray, with_outcome: bool) -> pa.Table:
            out = outcome[rows] if with_outcome else np.full(int(rows.sum()), "pending")
            return pa.table({
                "case_id": case_ids.filter(pa.array(rows)),
                "area_id": pa.array(ids[k["comm"][rows]], type=pa.string()),
                "opened_on": days(k["opened"][rows]),
                "dispute_type": pa.array(families[k["fam"][rows]], type=pa.string()),
                "recorded_on": days(recorded[rows]),
                "closed_on": days(closed_on[rows] if with_outcome else np.full(int(rows.sum()), np.datetime64("NaT"))),
                "outcome": pa.array(out, type=pa.string()),
                "parties": pa.array(k["parties"][rows], type=pa.int64()),
                "amount": optional(np.nan_to_num(k["amount"][rows]), np.isnan(k["amount"][rows]), pa.float64()),
                "origin": pa.array(np.where(k["screened"][rows], "screened", "reported"), type=pa.string()),
            })

        singles = table(single, rec_single, True)
        firsts = table(~single, entered, False)
        originals = pa.concat_tables([singles, firsts]) if firsts.num_rows else singles
        corrections = table(~single, np.maximum(update, entered + np.timedelta64(1, "D")), True)
        serious = SERIOUS[k["fam"]] | (k["parties"] >= 5) | (np.nan_to_num(k["amount"]) >= SERIOUS_MIN_AMOUNT)
        cell = k["comm"] * F + k["fam"]
        count = {
            "agreements": np.bincount(cell[outcome == "agreement"], minlength=n * F).reshape(n, F),
            "failures": np.bincount(cell[outcome == "failed"], minlength=n * F).reshape(n, F),
            "serious_failures": np.bincount(cell[(outcome == "failed") & serious], minlength=n * F).reshape(n, F),
        }
        return originals, corrections, count
