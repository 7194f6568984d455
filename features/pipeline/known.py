"""What the database knew on a date, answered from the record cache's summaries and versions.

A build used to ask the database a dozen whole-table questions besides the
versions themselves (knowledge span, fingerprints, first events, fields
present, areas with records). The record cache keeps, per segment, those
answers per ``recorded_on`` day (``record_cache.summarize``), so here they
are merges of small dicts, with the same meaning as the SQL in
``snapshot`` and ``fingerprint``: ``recorded_on < as_of`` decides what was
known. The versions themselves are read only for the records a build needs.
"""

from __future__ import annotations

import datetime as dt
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from features.pipeline import versions
from features.pipeline.fingerprint import per_day
from features.pipeline.record_cache import NO_DAY, Records
from features.pipeline.snapshot import _from_arrow, _supersede
from features.pipeline.versions import epoch_day, from_epoch_day


Ranges = tuple[tuple[dt.date, dt.date], ...]  # [from, to) date ranges, sorted and disjoint


def _inside(days: np.ndarray, ranges: Ranges) -> np.ndarray:
    """Which ``days`` (epoch days) lie in one of ``ranges``: looked up in a table of the days from the first range
    to the last (its first and last entries False) after clipping to it, one gather where searching the ranges'
    ends for 1.4 M days took ~6 x as long. Clipped in the days' own type: nothing overflows."""
    below = epoch_day(ranges[0][0]) - 1
    table = np.zeros(epoch_day(ranges[-1][1]) - below + 1, dtype=bool)
    for start, end in ranges:
        table[epoch_day(start) - below : epoch_day(end) - below] = True
    return table[np.clip(days, below, below + len(table) - 1) - below]


@dataclass(frozen=True)
class Reach:
    """Which records a block of periods [lo, end) needs (``Known.frames``): every version of those with a version
    recorded on or after ``changed_since`` or with an event or closing date from ``event_from`` on or, counting
    by difference, in one of the ``event_in`` [from, to) date ranges (sorted, disjoint). With ``closed_in``, a
    closing date is looked for in those ranges instead, except for the versions ``closing_events`` names
    (column, value): their closing date is an event windows are laid over (a failed mediation). All None:
    every record."""

    event_from: dt.date | None = None
    changed_since: dt.date | None = None
    event_in: Ranges | None = None
    closed_in: Ranges | None = None
    closing_events: tuple[str, str] | None = None

    def earliest(self) -> int | None:
        """The earliest epoch day the rule looks at (None: it keeps every record): no record reaching only before it is kept."""
        days = [d for d in (self.event_from, self.changed_since) if d is not None]
        days += [first for first, _ in (*(self.event_in or ()), *(self.closed_in or ()))]
        return epoch_day(min(days)) if days else None

    def wanted(self, *, event: np.ndarray, closed: np.ndarray, recorded: np.ndarray,
               closing_event: np.ndarray | None = None) -> np.ndarray:
        """Which versions the rule names, from their epoch days (``NO_DAY``: none); the caller keeps their records whole.

        ``closing_event`` marks the versions ``closing_events`` names (needed when it is set and ``closed_in`` is).
        """
        out = np.zeros(len(event), dtype=bool) if self.earliest() is not None else np.ones(len(event), dtype=bool)
        if self.event_from is not None:
            out |= (event >= epoch_day(self.event_from)) | (closed >= epoch_day(self.event_from))
        if self.event_in:
            out |= _inside(event, self.event_in)
            if self.closed_in is None:
                out |= _inside(closed, self.event_in)
            elif self.closing_events is not None:
                out |= closing_event & _inside(closed, self.event_in)
        if self.closed_in:
            out |= _inside(closed, self.closed_in)
        if self.changed_since is not None:
            out |= recorded >= epoch_day(self.changed_since)
        return out


class Known:
    """The whole-table answers for every ``as_of``, and the versions a block of periods needs."""

    def __init__(self, records: Records) -> None:
        self.records = records
        self._days: dict[str, np.ndarray] = {}  # kind -> [5, days]: day, rows, version sum, top batch, first event
        for kind, summaries in records.summaries.items():
            stacked = np.concatenate([np.asarray(s["days"], dtype=np.int64).reshape(5, -1) for s in summaries], axis=1)
            days, at = np.unique(stacked[0], return_inverse=True)
            merged = np.zeros((5, len(days)), dtype=np.int64)
            merged[0] = days
            merged[1] = np.bincount(at, weights=stacked[1], minlength=len(days))
            merged[2] = np.bincount(at, weights=stacked[2], minlength=len(days))
            merged[3] = np.iinfo(np.int64).min
            np.maximum.at(merged[3], at, stacked[3])
            merged[4] = np.iinfo(np.int64).max
            np.minimum.at(merged[4], at, stacked[4])
            self._days[kind] = merged

    def _known_days(self, kind: str, as_of: dt.date) -> np.ndarray:
        merged = self._days[kind]
        return merged[:, merged[0] < epoch_day(as_of)]

    def _known_each(self, as_of: dt.date) -> list[np.ndarray]:
        return [self._known_days(kind, as_of) for kind in self._days]

    def last_recorded(self, *, before: dt.date) -> dt.date | None:
        """The latest ``recorded_on`` before ``before`` (``knowledge_span``'s second half)."""
        lasts = [int(known[0].max()) for known in self._known_each(before) if known.shape[1]]
        return from_epoch_day(max(lasts)) if lasts else None

    def first_event(self, *, as_of: dt.date) -> dt.date | None:
        """The earliest event date of a version recorded before ``as_of``."""
        firsts = [int(known[4].min()) for known in self._known_each(as_of) if known.shape[1]]
        return from_epoch_day(min(firsts)) if firsts else None

    def record_areas(self, *, as_of: dt.date) -> list[str]:
        limit = epoch_day(as_of)
        return sorted({area for summaries in self.records.summaries.values() for summary in summaries
                       for area, day in zip(*summary["areas"]) if day < limit})

    def available(self, *, as_of: dt.date) -> set[str]:
        """``kind.field`` names holding a value in a version recorded before ``as_of``."""
        limit = epoch_day(as_of)
        return {f"{kind}.{name}" for kind, summaries in self.records.summaries.items() for summary in summaries
                for name, day in summary["fields"].items() if day < limit}

    def first_events(self, *, as_of: dt.date) -> pd.DataFrame:
        """Earliest event date per ``recorded_on`` date (``snapshot.first_events``)."""
        known = np.concatenate([self._known_days(kind, as_of)[[0, 4]] for kind in self._days], axis=1)
        return pd.DataFrame({name: known[i].astype("datetime64[D]").astype("datetime64[ns]")
                             for i, name in enumerate(("recorded_on", "first_on"))})

    def fingerprints(self, *, as_of: dt.date) -> dict[str, dict[str, list[float]]]:
        """Per kind, per ``recorded_on`` day: [rows, sum of versions, highest batch] (``fingerprint.fingerprints``)."""
        out = {}
        for kind in self._days:
            known = self._known_days(kind, as_of)
            out[kind] = per_day(known[0], *known[1:4].tolist())
        return out

    def frames(self, *, as_of: dt.date, reaches: dict[str, Reach] | None = None) -> dict[str, pd.DataFrame]:
        """``snapshot.load_versions`` for both kinds: the same frames, restricted to the records each kind's
        ``reaches`` names (None: every record).

        With a restriction only records whose reach is on or after the
        earliest of its dates are read at all (every record the
        restriction keeps has such a version); the exact rule then runs here.
        """
        def one(kind: str) -> pd.DataFrame:
            return self._frame(kind, as_of=as_of, reach=Reach() if reaches is None else reaches[kind])

        with ThreadPoolExecutor(max_workers=len(versions.KINDS)) as pool:  # Arrow and numpy release the GIL for most of it
            return dict(zip(versions.KINDS, pool.map(one, versions.KINDS)))

    def _frame(self, kind: str, *, as_of: dt.date, reach: Reach) -> pd.DataFrame:
        """One kind's frame for ``frames``.

        Worked out batch by batch (a cached segment's tail and the new batch): a batch's columns are the mapped
        file's bytes, read in place, where one array over both would be a copy of each (and its fresh pages).
        """
        min_reach = reach.earliest()
        table = self.records.load(kind, min_reach=min_reach)
        batches = table.to_batches()
        recorded = [self._day(batch, "recorded_on") for batch in batches]
        known = [days < epoch_day(as_of) for days in recorded]
        if min_reach is not None:
            rids = [batch.column("rid").to_numpy() for batch in batches]
            chosen = np.zeros(max((int(rid.max(initial=-1)) for rid in rids), default=-1) + 1, dtype=bool)
            for batch, rid, days in zip(batches, rids, recorded):  # every version of a wanted record: marked, then kept
                closing_event = None if reach.closing_events is None else _equals(batch, *reach.closing_events)
                wanted = reach.wanted(event=self._day(batch, versions.event_column(kind)), closed=self._day(batch, "closed_on"),
                                      recorded=days, closing_event=closing_event)
                chosen[rid[wanted]] = True
            known = [keep & chosen[rid] for keep, rid in zip(known, rids)]
        picked = pa.Table.from_batches([batch if keep.all() else batch.filter(pa.array(keep)) for batch, keep in zip(batches, known)],
                                       schema=table.schema)
        picked = picked.drop_columns(["reach"])  # without ``record_id``: ``rid`` stands in for it
        picked = picked.rename_columns(["record_id" if name == "rid" else name for name in picked.column_names])
        return _supersede(_from_arrow(picked.select(versions.columns(kind)), codes=None))

    @staticmethod
    def _day(batch: pa.RecordBatch, name: str) -> np.ndarray:
        """A day column as numpy, in place when it has no missing value (``NO_DAY`` stands for one)."""
        column = batch.column(name)
        return column.fill_null(NO_DAY).to_numpy() if column.null_count else column.to_numpy()


def _equals(batch: pa.RecordBatch, name: str, value: str) -> np.ndarray:
    """Which rows of a dictionary-encoded text column hold ``value``: its code compared, not every row's text."""
    column = batch.column(name)
    if not pa.types.is_dictionary(column.type):
        return pc.fill_null(pc.equal(column, value), False).to_numpy(zero_copy_only=False)
    found = column.dictionary.index(value).as_py()
    codes = column.indices.fill_null(-1).to_numpy(zero_copy_only=False) if column.null_count else column.indices.to_numpy()
    return codes == found if found >= 0 else np.zeros(len(column), dtype=bool)
