"""The shared state of one feature computation: encoded records and memoised counts.

Records are encoded once into dense integer arrays (panel area, event period,
known-from and known-until periods, family code, flags), so the family
modules never touch strings or object columns in the hot path.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import pandas as pd

from features.catalogue import FAMILIES, FeatureSpec, by_name
from features.labels import collective, cross_level, failed_serious, failure_date
from features.pipeline.grid import BIG, Grid, lookup_codes
from features.pipeline.intervals import interval_sum, window_bounds


@dataclass
class Records:
    """One versioned kind, encoded: one entry per version."""

    area: np.ndarray
    event: np.ndarray
    known_from: np.ndarray
    known_until: np.ndarray
    closed: np.ndarray
    family: np.ndarray
    flags: dict[str, np.ndarray]
    events: dict[str, np.ndarray] = field(default_factory=dict)  # alternative event dates (e.g. "fail")
    event_sorted: bool = False  # ordered by ``event`` (``by_event``)

    def __len__(self) -> int:
        return len(self.area)

    def by_event(self) -> "Records":
        """The same versions ordered by event period, so a window's versions are a suffix (see ``count``)."""
        order = np.argsort(self.event, kind="stable")
        return Records(area=self.area[order], event=self.event[order], known_from=self.known_from[order],
                       known_until=self.known_until[order], closed=self.closed[order], family=self.family[order],
                       flags={k: v[order] for k, v in self.flags.items()}, events={k: v[order] for k, v in self.events.items()},
                       event_sorted=True)


def encode(frame: pd.DataFrame, *, kind: str, grid: Grid) -> tuple[Records, int]:
    """Encode a snapshot frame; returns the records and how many fell outside the panel areas."""
    area = grid.area_index(frame["area_id"])
    keep = area >= 0
    if not keep.all():  # filtering copies every column: only when some record falls outside
        frame, area = frame[keep], area[keep]
    family_col = "category" if kind == "petitions" else "dispute_type"
    codes = {name: i for i, name in enumerate(FAMILIES)}
    family = lookup_codes(frame[family_col], codes)
    family = np.where(family < 0, codes["other"], family).astype(np.int16)
    if kind == "petitions":
        flags = {
            "collective": collective(frame["people"]), "crosslevel": cross_level(frame["level_reached"]),
            "repeat": frame["is_repeat"].to_numpy() == 1, "closed_known": frame["closed_on"].notna().to_numpy(),
            "satisfied": frame["satisfied"].to_numpy() == 1, "rated": frame["satisfied"].notna().to_numpy(),
        }
        flags["esc"] = flags["collective"] | flags["crosslevel"]
        events = {}
    else:
        outcome = frame["outcome"]
        flags = {
            "failed_serious": failed_serious(frame), "agreement": (outcome == "agreement").to_numpy(),
            "failed": (outcome == "failed").to_numpy(),
            "decided": outcome.isin(("agreement", "failed", "referred")).to_numpy(),
            "screened": (frame["origin"] == "screened").to_numpy(), "reported": (frame["origin"] == "reported").to_numpy(),
        }
        flags["origin_known"] = flags["screened"] | flags["reported"]
        events = {"fail": grid.period_index(failure_date(frame))}
    records = Records(
        area=area, event=grid.period_index(frame["received_on" if kind == "petitions" else "opened_on"]), known_from=grid.period_index(frame["recorded_on"]) + 1,
        known_until=_plus_one(grid.period_index(frame["superseded_on"])), closed=grid.period_index(frame["closed_on"]),
        family=family, flags=flags, events=events,
    )
    return records, int((~keep).sum())


def _plus_one(index: np.ndarray) -> np.ndarray:
    return np.where(index == BIG, BIG, index + 1)


@dataclass
class FeatureContext:
    """Everything the family modules need to compute features for periods [lo, hi)."""

    grid: Grid
    lo: int
    hi: int
    available: set[str]
    records: dict[str, Records]
    population: pd.DataFrame | None = None
    policies: pd.DataFrame | None = None
    first_known: np.ndarray | None = None  # earliest event period known at each t in [lo, hi)
    handlers: dict[str, Callable[["FeatureContext", FeatureSpec], np.ndarray]] = field(default_factory=dict)
    _memo: dict = field(default_factory=dict)

    @property
    def shape(self) -> tuple[int, int]:
        return self.grid.n_areas, self.hi - self.lo

    def specs(self) -> dict[str, FeatureSpec]:
        return by_name(self.grid.period)

    def present(self, spec: FeatureSpec) -> bool:
        """A feature exists when every field it reads holds data (and its inputs exist)."""
        if not all(read in self.available for read in spec.reads):
            return False
        if spec.key and spec.key[0] in ("rate", "nbr", "par"):
            return self.present(self.specs()[spec.key[1]])
        return True

    def feature(self, name: str) -> np.ndarray:
        """The [areas, periods] values of one catalogue feature, computed once."""
        if ("feature", name) not in self._memo:
            spec = self.specs()[name]
            self._memo[("feature", name)] = self.handlers[spec.key[0]](self, spec)
        return self._memo[("feature", name)]

    def count(self, kind: str, selector: str, window: int, lag: int = 0, event: str = "",
              open_only: bool = False, closed_only: bool = False) -> np.ndarray:
        """Versions of ``kind`` matching ``selector`` in the window, as known at each period."""
        memo_key = ("count", kind, selector, window, lag, event, open_only, closed_only)
        if memo_key in self._memo:
            return self._memo[memo_key]
        # A version counts at t only while t < event + lag + window + 1, so from lo on only
        # events >= lo - lag - window can count: with records ordered by event, a suffix.
        since = self.lo - lag - window if self.lo > 0 and not event and self.records[kind].event_sorted else None
        area, ev, known_from, known_until, closed = self._subset(kind, selector, event, since)
        start, end = window_bounds(event=ev, known_from=known_from, known_until=known_until, window=window, lag=lag)
        if open_only:  # still open when t starts: closed on or after start(t)
            end = np.minimum(end, closed)
        if closed_only:  # closed before t starts
            start = np.maximum(start, closed)
        out = interval_sum(area=area, start=start, end=end, weight=None, n_areas=self.grid.n_areas, lo=self.lo, hi=self.hi)
        self._memo[memo_key] = out
        return out

    def _subset(self, kind: str, selector: str, event: str, since: int | None = None) -> tuple[np.ndarray, ...]:
        """The arrays of the versions a selector picks (with ``since``: of those with an event from
        ``since`` on, records ordered by event), extracted once and shared by every window."""
        memo_key = ("subset", kind, selector, event, since)
        if memo_key not in self._memo:
            rec = self.records[kind]
            first = int(np.searchsorted(rec.event, since, side="left")) if since is not None else 0
            part = slice(first, None)
            mask = self._select(rec, selector, part)
            ev = rec.events[event] if event else rec.event
            closed = rec.closed[part][mask]
            closed = np.where(closed == BIG, BIG, closed + 1)  # first period it is closed at
            self._memo[memo_key] = (rec.area[part][mask], ev[part][mask], rec.known_from[part][mask],
                                    rec.known_until[part][mask], closed)
        return self._memo[memo_key]

    @staticmethod
    def _select(rec: Records, selector: str, part: slice) -> np.ndarray | slice:
        if selector == "total":
            return slice(None)
        how, _, what = selector.partition(":")
        if how == "fam":
            return rec.family[part] == list(FAMILIES).index(what)
        return rec.flags[what if how == "flag" else selector][part]

