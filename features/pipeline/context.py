"""The shared state of one feature computation: encoded records and memoised counts.

Records are encoded once into dense integer arrays (panel area, event period,
known-from and known-until periods, family code, flags), so the family
modules never touch strings or object columns in the hot path.
"""

from __future__ import annotations

import dataclasses
import threading
from dataclasses import dataclass, field
from types import ModuleType
from typing import Callable, TypeVar

import numpy as np
import pandas as pd

from features.catalogue import FAMILIES, FeatureSpec, by_name, window_edges
from features.labels import collective, cross_level, failure_date, serious_dispute
from features.pipeline import intervals
from features.pipeline.grid import BIG, Grid, lookup_codes

COMPILED_FROM = 8  # periods: a block of fewer counts in numpy passes (``FeatureContext.loops``)
T = TypeVar("T")
NEVER = np.int32(BIG)  # grid.BIG, "never", among the int32 period indices of ``Records``


@dataclass
class Records:
    """One versioned kind, encoded: one entry per version.

    Areas and periods are int32 (a missing date is ``NEVER``): half the bytes
    of int64 to gather into counting order and for the counting loops to
    read, which is most of what counting costs on a whole panel.
    """

    area: np.ndarray
    event: np.ndarray
    known_from: np.ndarray
    known_until: np.ndarray
    closed: np.ndarray
    family: np.ndarray
    flags: dict[str, np.ndarray]
    events: dict[str, np.ndarray] = field(default_factory=dict)  # alternative event dates (e.g. "fail")
    event_sorted: bool = False  # ordered by ``event`` (``by_event``)
    order: np.ndarray | None = None  # the order to count in (``by_family_area``)
    family_bounds: np.ndarray | None = None  # in ``order``, family f is [bounds[f], bounds[f + 1])

    def __len__(self) -> int:
        return len(self.area)

    def by_event(self) -> "Records":
        """The same versions ordered by event period, so a window's versions are a suffix (see ``count``)."""
        order = _stable_order(self.event)
        return Records(area=self.area[order], event=self.event[order], known_from=self.known_from[order],
                       known_until=self.known_until[order], closed=self.closed[order], family=self.family[order],
                       flags={k: v[order] for k, v in self.flags.items()}, events={k: v[order] for k, v in self.events.items()},
                       event_sorted=True)

    def by_family_area(self) -> "Records":
        """The same versions, to be counted in (family, area) order (``order``; nothing is moved here).

        In that order a family is a slice, not a mask, and consecutive
        versions fill neighbouring bins of the count array: ``bincount`` runs
        ~5x faster than over versions in arrival order, which scatter over it.
        """
        order = _stable_order(self.area)  # by area, then (stable) by family
        order = order[_stable_order(self.family[order])]
        bounds = np.searchsorted(self.family[order], np.arange(len(FAMILIES) + 1, dtype=self.family.dtype), side="left")
        return dataclasses.replace(self, order=order, family_bounds=bounds)


def _stable_order(key: np.ndarray) -> np.ndarray:
    """``argsort(key, kind="stable")`` on the narrowest integer type that holds the keys.

    numpy radix-sorts 8- and 16-bit keys: ~4x faster than comparing int64
    (measured on 1.3 M event periods); keys that do not fit keep their type.
    """
    if len(key):
        low, high = int(key.min()), int(key.max())
        for narrow in (np.uint8, np.int8, np.uint16, np.int16):
            if np.iinfo(narrow).min <= low and high <= np.iinfo(narrow).max:
                key = key.astype(narrow)
                break
    return np.argsort(key, kind="stable")


# The versions whose closing date is an event windows are laid over, per kind, as (column, value): a failed
# mediation counts when the case closes (the ``fail`` event of ``encode``, ``labels.failure_date``). Any other
# closing date moves a count only where it lies (``assemble.history_reach`` reads by that).
CLOSING_EVENTS = {"mediation": ("outcome", "failed")}


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
            "serious": serious_dispute(frame), "agreement": (outcome == "agreement").to_numpy(),
            "failed": (outcome == "failed").to_numpy(),
            "decided": outcome.isin(("agreement", "failed", "referred")).to_numpy(),
            "screened": (frame["origin"] == "screened").to_numpy(), "reported": (frame["origin"] == "reported").to_numpy(),
        }
        flags["failed_serious"] = flags["failed"] & flags["serious"]  # labels.failed_serious, the test done once
        flags["origin_known"] = flags["screened"] | flags["reported"]
        events = {"fail": _periods(grid, failure_date(frame))}
    records = Records(
        area=area.astype(np.int32), event=_periods(grid, frame["received_on" if kind == "petitions" else "opened_on"]),
        known_from=_periods(grid, frame["recorded_on"]) + 1, known_until=_plus_one(_periods(grid, frame["superseded_on"])),
        closed=_periods(grid, frame["closed_on"]),
        family=family, flags=flags, events=events,
    )
    return records, int((~keep).sum())


def _periods(grid: Grid, dates: pd.Series | pd.DatetimeIndex) -> np.ndarray:
    """Period indices as int32 (a missing date is ``grid.BIG``, which fits)."""
    return grid.period_index(dates).astype(np.int32)


def _plus_one(index: np.ndarray) -> np.ndarray:
    return np.where(index == NEVER, NEVER, index + 1)


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
    # Every count at period lo - 1 as the last build stored it (``count_name``): counts are then made by difference.
    base: dict[str, np.ndarray] | None = None
    handlers: dict[str, Callable[["FeatureContext", FeatureSpec], np.ndarray]] = field(default_factory=dict)
    _memo: dict = field(default_factory=dict)
    _locks: dict = field(default_factory=dict)  # memo key -> its lock (``once``)
    _guard: threading.Lock = field(default_factory=threading.Lock)

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

    def once(self, key: tuple, make: Callable[[], T]) -> T:
        """``make()`` memoised under ``key``, made once even when both of ``compute_block``'s threads ask for it at
        the same moment (population's residents: the petitions' rates in one thread, population's own features in
        the other); a second asker waits for the first rather than making it again."""
        if key not in self._memo:
            with self._guard:
                lock = self._locks.setdefault(key, threading.Lock())
            with lock:
                if key not in self._memo:
                    self._memo[key] = make()
        return self._memo[key]

    def loops(self) -> ModuleType:
        """The counting loops: compiled (``kernels``) for a block of many periods, numpy passes (``intervals``) for a few.

        Both give the same integers. numba's set-up costs 0.5-0.6 s once per
        process (importing it, loading its registries and the cached loops),
        more than numpy takes for an incremental week's counts; over a whole
        panel the compiled loops save seconds and half a GB (docs/adr/0014).
        Imported here, so neither the API nor an incremental build loads numba.
        """
        if self.hi - self.lo < COMPILED_FROM:
            return intervals
        from features.pipeline import kernels

        return kernels

    @property
    def first(self) -> int:
        """The first period counted: ``lo``, or ``lo - 1`` when counts are made by difference from ``base``."""
        return self.lo - 1 if self.base is not None else self.lo

    def count(self, kind: str, selector: str, window: int, lag: int = 0, event: str = "",
              open_only: bool = False, closed_only: bool = False) -> np.ndarray:
        """Versions of ``kind`` matching ``selector`` in the window, as known at each period.

        Every version counts over one interval of periods (``intervals``); here
        the intervals are bin indices into the [areas, periods] count array, so
        a count is +1 where intervals open and -1 where they close, cumulated
        along periods (one pass over the versions, ``loops``). The
        per-selector bin arrays (``_bins``) are made once for all windows.

        With ``base`` the records are only those that can move a count
        between lo - 1 and hi (``window_edges``): the rest count alike at
        every one of those periods, so counting what was read over
        [lo - 1, hi) and adding each period's change since lo - 1 to the
        stored count at lo - 1 gives every version's count.
        """
        memo_key = ("count", kind, selector, window, lag, event, open_only, closed_only)
        if memo_key in self._memo:
            return self._memo[memo_key]
        first = self.first
        # A version counts at t only while t < event + lag + window + 1, so from ``first`` on only
        # events >= first - lag - window can count: with records ordered by event, a suffix.
        since = first - lag - window if first > 0 and not event and self.records[kind].event_sorted else None
        bins, pick = self._bins(kind, selector, event, since)
        # The window opens after event + lag, once known (and, closed_only, closed); past ``until`` (or hi) it is empty.
        # It closes after event + lag + window, or when superseded (or past hi), or (open_only) when closed.
        out = self.loops().window_counts(bins["event"], bins["from"], bins["until"], bins["closed"], *_picked(pick), lag + 1,
                                         closed_only, lag + window + 1, open_only, self.grid.n_areas, self.hi - first + 1)
        if self.base is not None:
            out = self._added_to_base(memo_key, out, edges=(lag + 1, lag + window + 1))
        self._memo[memo_key] = out
        return out

    def _added_to_base(self, memo_key: tuple, counted: np.ndarray, *, edges: tuple[int, int]) -> np.ndarray:
        """Each period's change since lo - 1 (``counted`` over [lo - 1, hi)) added to the stored count at lo - 1."""
        name = count_name(memo_key)
        if not set(edges) <= set(window_edges(self.grid.period)):
            raise ValueError(f"count {name} has window edges {edges}, not among window_edges(): the records read "
                             "for counting by difference cannot move it; add its window to the catalogue's")
        if name not in self.base:
            raise KeyError(f"count {name} is not among the last build's stored counts: it cannot be made by difference")
        return (self.base[name][:, None] + (counted[:, 1:] - counted[:, :1])).astype(np.float32)

    def counts_at_last(self) -> dict[str, np.ndarray]:
        """Every count made so far at period hi - 1 (``count_name``): the next build's ``base``."""
        return {count_name(key): np.ascontiguousarray(values[:, -1]) for key, values in self._memo.items()
                if key[0] == "count" and values.shape[1]}

    def _bins(self, kind: str, selector: str, event: str, since: int | None) -> tuple[dict[str, np.ndarray], np.ndarray | None]:
        """A selector's versions as bin indices ``area * width + period - first`` (periods clipped to [first, hi]).

        ``from``: where being known opens the interval; ``event``: the event
        period (unclipped: windows are added to it); ``until``: superseded;
        ``closed``: the first period the record is closed at. Clipping to
        [first, hi] here is what ``interval_sum`` does to each interval; an
        interval that is empty opens and closes in one bin of its own area.
        All versions are encoded once (``_encoded``); a family in (family,
        area) order and a suffix in event order are views of that (and no
        pick); otherwise the second item picks the versions, which the
        counting loops read in place rather than from copies.
        """
        memo_key = ("bins", kind, selector, event, since)
        if memo_key in self._memo:
            return self._memo[memo_key]
        rec, encoded = self.records[kind], self._encoded(kind, event)
        # ``since`` in the array's own type: a Python int would have numpy copy the whole array to int64 first (1 ms a call)
        start = int(np.searchsorted(rec.event, rec.event.dtype.type(since), side="left")) if since is not None else 0
        how, _, what = selector.partition(":")
        pick: np.ndarray | None = None
        if selector == "total":
            rows = slice(start, None)
        elif how == "fam" and rec.family_bounds is not None:
            code = list(FAMILIES).index(what)
            rows = slice(int(rec.family_bounds[code]), int(rec.family_bounds[code + 1]))
        else:
            mask = self._selector(kind, "family")[start:] == list(FAMILIES).index(what) if how == "fam" \
                else self._selector(kind, what if how == "flag" else selector)[start:]
            rows, pick = slice(start, None), np.flatnonzero(mask).astype(np.int32)
        out = ({name: values[rows] for name, values in encoded.items()}, pick)
        self._memo[memo_key] = out
        return out

    def _encoded(self, kind: str, event: str) -> dict[str, np.ndarray]:
        """Every version's bins (see ``_bins``), in counting order; ``event`` names an alternative event date."""
        memo_key = ("encoded", kind, event)
        if memo_key not in self._memo:
            rec, first, hi = self.records[kind], self.first, self.hi
            if event:
                out = dict(self._encoded(kind, ""))
                out["event"] = self._area_offset(kind) + np.minimum(self._ordered(rec, rec.events[event]), hi)
            else:
                offset = self._area_offset(kind)
                closed = self._ordered(rec, rec.closed)
                closed = np.where(closed >= hi, hi, closed + 1)  # first period it is closed at (NEVER: past hi)
                # An event after hi counts nowhere in [first, hi) whether or not it is cut to hi, and cut it cannot overflow.
                out = {"from": offset + np.maximum(self._ordered(rec, rec.known_from), first),
                       "event": offset + np.minimum(self._ordered(rec, rec.event), hi),
                       "until": offset + np.clip(self._ordered(rec, rec.known_until), first, hi), "closed": offset + closed}
            self._memo[memo_key] = out
        return self._memo[memo_key]

    def _area_offset(self, kind: str) -> np.ndarray:
        """``area * width - first`` for every version, in counting order."""
        memo_key = ("offset", kind)
        if memo_key not in self._memo:
            rec, width = self.records[kind], self.hi - self.first + 1
            if self.grid.n_areas * width >= np.iinfo(np.int32).max:
                raise OverflowError(f"{self.grid.n_areas} areas x {width} periods do not fit the int32 count bins")
            self._memo[memo_key] = self._ordered(rec, rec.area) * width - self.first
        return self._memo[memo_key]

    def _selector(self, kind: str, name: str) -> np.ndarray:
        """The family codes (``family``) or a flag of every version, in counting order."""
        memo_key = ("selector", kind, name)
        if memo_key not in self._memo:
            rec = self.records[kind]
            self._memo[memo_key] = self._ordered(rec, rec.family if name == "family" else rec.flags[name])
        return self._memo[memo_key]

    @staticmethod
    def _ordered(rec: Records, values: np.ndarray) -> np.ndarray:
        return values if rec.order is None else values[rec.order]


_ALL = np.zeros(0, dtype=np.int32)


def count_name(memo_key: tuple) -> str:
    """A count's memo key as text (kind, selector, window, lag, event, open only, closed only), to store it by."""
    return "|".join(str(part) for part in memo_key[1:])


def _picked(pick: np.ndarray | None) -> tuple[np.ndarray, bool]:
    """The counting loops' (pick, use it) arguments: one signature whether or not versions are picked."""
    return (_ALL, False) if pick is None else (pick, True)
