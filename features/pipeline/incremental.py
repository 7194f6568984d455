"""Incremental builds: recompute only the periods new records can change, and store the result.

Features of period t read only versions recorded before t starts
(docs/adr/0005), so if the earliest knowledge date at which the database
differs from the last build is d, every period starting on or before d keeps
its features: only the periods after d's period are recomputed (plus any new
periods). Labels read the latest versions, so late records change past
labels; they are updated by difference: the label events of every record
read are subtracted as the last build knew them and added as known now.
Anything that could move every row (catalogue, label or period settings,
the area tables, a removed version, another first period or feature set)
rebuilds in full. The versions come from the record cache plus the batches
loaded since the last build (docs/adr/0012), so an incremental build reads
from the database only what is new.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Callable

import numpy as np
from sqlalchemy.engine import Engine

from features.catalogue import catalogue, catalogue_hash
from features.labels import LABEL_OFFSET, label_from_events
from features.pipeline import arenas, columnar, population_cache, record_cache, store
from features.pipeline.assemble import (
    Context, Snapshot, assemble_snapshot, compute_block, known_context, known_frames, known_snapshot, label_change_items,
    label_event_items, label_events, label_rows, observed_periods, panel_grid, present_features, resolve_as_of,
)
from features.pipeline.known import Known
from features.pipeline.fingerprint import VERSIONED, first_change, fingerprints
from features.pipeline.grid import Grid
from features.pipeline.population_cache import Population
from features.pipeline.progress import Steps
from features.pipeline.spec import PanelSpec


@dataclass(frozen=True)
class BuildResult:
    """What a build did, for the CLI's one-line summary and the logs."""

    build_id: int
    path: Path
    rows: int
    areas: int
    periods: int
    recomputed_periods: int
    features: int
    full: bool
    reason: str
    as_of: dt.date
    first_period: dt.date
    last_period: dt.date
    seconds: float
    timings: dict[str, float] = field(default_factory=dict)  # seconds per stage: read, snapshot, compute, write, manifest


def _identity(spec: PanelSpec) -> dict:
    label = dataclasses.asdict(spec.label)
    label["categories"] = list(label["categories"])
    return {"period": spec.period, "week_start": spec.week_start, "label": label,
            "catalogue_hash": catalogue_hash(spec.period)}


def _first_changed(*, spec: PanelSpec, prev: dict | None, as_of: dt.date, since: dt.date | None,
                   fps: dict) -> tuple[dt.date | None, str]:
    """(earliest knowledge date that differs from the last build, or None to build in full; why)."""
    if prev is None:
        return None, "first build"
    ident = _identity(spec)
    if {k: prev.get(k) for k in ident} != ident:
        return None, "settings or catalogue changed"
    if dt.date.fromisoformat(prev["as_of"]) > as_of:
        return None, "the database knows less than the last build"
    changed, reason = first_change(prev["fingerprints"], fps)
    if reason:
        return None, reason
    dates = [dt.date.fromisoformat(prev["last_period"])] + [d for d in (changed, since) if d is not None]
    return min(dates), "incremental"


@dataclass(frozen=True)
class _Plan:
    """What a build recomputes, decided from the fingerprints."""

    changed: dt.date | None  # earliest knowledge date that differs from the last build; None: every period anew
    reason: str
    lo: int  # the first period recomputed
    fps: dict
    up_to_date: bool = False  # nothing changed: the last build is still the current one


def _plan(*, spec: PanelSpec, prev: dict | None, as_of: dt.date, since: dt.date | None, full: bool,
          uncached: str, grid: Grid, fps: dict) -> _Plan:
    """The plan for these fingerprints (``fps``): from the first changed period on, or in full, and why.

    ``uncached`` says why the record cache was not used ("" when it was).
    """
    changed, reason = _first_changed(spec=spec, prev=prev, as_of=as_of, since=since, fps=fps)
    if changed is not None and uncached:
        changed, reason = None, uncached
    if full:  # a forced rebuild: every period, from the record cache when it can be vouched for
        changed, reason = None, "full rebuild requested" + (f"; {uncached}" if uncached and prev else "")
    if changed is None:
        return _Plan(None, reason, 0, fps)
    if since is None and prev["as_of"] == as_of.isoformat() and prev["fingerprints"] == fps:
        return _Plan(changed, reason, len(prev["parts"]), fps, up_to_date=True)
    if str(grid.periods[0].date()) != prev["first_period"] or grid.area_ids.tolist() != prev["areas"]:
        return _Plan(None, "first period or areas changed", 0, fps)
    lo = int(grid.period_index(np.array([np.datetime64(changed, "ns")]))[0]) + 1
    return _Plan(changed, reason, max(0, min(lo, len(prev["parts"]))), fps)


def _context_side(engine: Engine, known: Known, *, plan: Callable[..., _Plan], fps: dict, spec: PanelSpec, as_of: dt.date,
                  grid: Grid, prev: dict | None, data_dir: Path) -> tuple[_Plan, Context | None, Population]:
    """The plan with population's and policies' fingerprints (``fps``: the records'), the context it reads, and the
    population rows (from the last build's population cache when the database's are the same)."""
    people = population_cache.read(engine, manifest=prev, data_dir=data_dir, period=spec.period)
    others = fingerprints(engine, as_of=as_of, skip=(*VERSIONED, "population"))
    final = plan(fps={**others, "population": people.fingerprints(as_of=as_of), **fps})
    if final.up_to_date:
        return final, None, people
    return final, known_context(engine, known, spec=spec, as_of=as_of, grid=grid, lo=final.lo, people=people), people


def _unchanged(prev: dict, *, data_dir: Path, began: float) -> BuildResult:
    """Nothing was recorded since the last build: it is still the current one."""
    return BuildResult(build_id=prev["build_id"], path=data_dir / store.ROOT / prev["period"], rows=prev["rows"],
                       areas=len(prev["areas"]), periods=len(prev["parts"]), recomputed_periods=0,
                       features=len(prev["columns"]), full=False, reason="up to date", as_of=dt.date.fromisoformat(prev["as_of"]),
                       first_period=dt.date.fromisoformat(prev["first_period"]),
                       last_period=dt.date.fromisoformat(prev["last_period"]), seconds=time.perf_counter() - began)


def build_features(engine: Engine, *, spec: PanelSpec, data_dir: Path, since: dt.date | None = None,
                   full: bool = False, progress: bool = False, malloc_arenas: int | None = arenas.ARENAS) -> BuildResult:
    """Bring the stored ``spec.period`` panel up to date with the database; returns what was done.

    ``since`` forces recomputing every period from the one holding that date;
    ``full`` recomputes (and rewrites) every period and the labels from scratch,
    and hashes every cached segment (otherwise only those whose size or
    modification time changed since written: ``record_cache.as_written``).
    The record versions come from the last build's record cache plus the
    batches loaded since (``record_cache``), or from one full read when the
    cache cannot be vouched for; either way the build then works in memory.
    ``malloc_arenas`` caps the process's glibc malloc arenas (``arenas``; None: glibc's own choice).
    """
    began = time.perf_counter()
    arenas.share_arenas(malloc_arenas)  # before this build's threads start: they share the memory each frees
    data_dir = Path(data_dir)
    prev = store.latest_manifest(engine, data_dir=data_dir, period=spec.period)
    # One background thread writes the record cache while the snapshot is made (Arrow's sort, IPC writer and
    # hashing release the GIL); leaving the block waits for it, whatever happens.
    with ThreadPoolExecutor(max_workers=1) as background, ThreadPoolExecutor(max_workers=1) as loops, \
            Steps(total=len(catalogue(spec.period)) + 4, enabled=progress, what=f"{spec.period} features") as steps:
        clock, timings = [began], {}
        # Every period will be counted with the compiled loops: numba is set up while the cache is hashed and read.
        warming = loops.submit(_warm_up) if full or prev is None else None
        loops.submit(columnar.warm_up, engine.url)  # the columnar reader's driver loads while the cache is vouched for
        loops.submit(record_cache.warm_up)  # and Arrow's group-by engine, while the new batches are read
        records = record_cache.read(engine, manifest=prev, data_dir=data_dir, period=spec.period, verify=full)
        timings["read"] = _lap(clock)
        caching = background.submit(record_cache.write, records, data_dir=data_dir, period=spec.period)
        known = Known(records)
        as_of = resolve_as_of(engine, spec=spec, as_of=None, known=known)
        fps = known.fingerprints(as_of=as_of)
        grid = panel_grid(engine, spec=spec, as_of=as_of, known=known)  # before the database thread: no two reads at once
        plan = partial(_plan, spec=spec, prev=prev, as_of=as_of, since=since, full=full, uncached=records.reason, grid=grid)
        # The database thread computes population's and policies' fingerprints, then reads what the plan needs of
        # them; meanwhile the records are turned into frames for the plan the records' own fingerprints give, which
        # the others can only move earlier (or to a full build): almost always it is the plan. Nothing else reads
        # the database meanwhile (on SQLite, two libraries must not: ``record_cache.read_all``).
        guess = plan(fps={**(prev or {}).get("fingerprints", {}), **fps})
        base = _base(prev, guess, grid=grid, data_dir=data_dir)
        with ThreadPoolExecutor(max_workers=1) as database:
            planning = database.submit(_context_side, engine, known, plan=plan, fps=fps, spec=spec, as_of=as_of, grid=grid,
                                       prev=prev, data_dir=data_dir)
            frames = None if guess.up_to_date else known_frames(known, spec=spec, as_of=as_of, grid=grid, lo=guess.lo,
                                                                by_difference=base is not None)
            final, context, people = planning.result()
        fps = final.fps
        if final.up_to_date:
            return _unchanged(prev, data_dir=data_dir, began=began)
        changed, reason, lo = final.changed, final.reason, final.lo
        if frames is None or lo != guess.lo:
            frames = None  # the guess's frames go before the plan's are made
            base = _base(prev, final, grid=grid, data_dir=data_dir)
            frames = known_frames(known, spec=spec, as_of=as_of, grid=grid, lo=lo, by_difference=base is not None)
        snap = assemble_snapshot(known, as_of=as_of, grid=grid, frames=frames, context=context)
        del frames
        if changed is not None and present_features(snap) != prev["columns"]:
            changed, reason, lo, base = None, "feature set changed", 0, None
            snap = known_snapshot(engine, known, spec=spec, as_of=as_of, grid=grid, people=people)
        steps.advance("records")
        timings["snapshot"] = _lap(clock)
        cache = caching.result()  # before computing: the versions and the features are never in memory together
        del known, records  # the frames of the snapshot are all the build needs from here
        steps.advance("record cache")
        # The labels are weighed in the background thread while the features are computed: it holds its own
        # view of the frames, which compute_block releases from ``snap`` as it encodes them.
        labelling = background.submit(_labels, dataclasses.replace(snap, frames=dict(snap.frames)), spec=spec,
                                      as_of=as_of, prev=None if changed is None else prev, data_dir=data_dir)
        if warming is not None:
            warming.result()
        block = compute_block(snap, lo=lo, hi=grid.n_periods, steps=steps, release=True, base=base)  # frames freed as encoded
        arrays, counted = block.features, block.counts
        del block, base
        labels = labelling.result()
        timings["compute"] = _lap(clock)
        columns = list(arrays)
        # Recomputing some periods, the areas and feature columns are the last build's (``_plan``): so is the schema.
        schema = store.stored_part_schema(prev, data_dir=data_dir, names=columns) if changed is not None else None
        writing = store.write_parts(arrays, starts=grid.periods[lo:], area_ids=grid.area_ids.tolist(), data_dir=data_dir,
                                    period=spec.period, schema=schema)
        # The counts are stored beside the parts, in the thread that weighed the labels (done by now).
        storing = background.submit(store.write_counts, counted, data_dir=data_dir, period=spec.period,
                                    at=grid.periods[-1].date()) if counted else None
        steps.advance("labels")
        keep_before = str(grid.periods[lo].date()) if lo < grid.n_periods else "9999"
        parts = {day: name for day, name in prev["parts"].items() if day < keep_before} if changed is not None else {}
        parts.update(writing.result())
        if storing is not None:
            counts = storing.result()
        else:  # no period recomputed: the last build's counts are still those of the last period
            counts = prev.get("counts") if changed is not None else None
        del arrays
        steps.advance("stored")
        timings["write"] = _lap(clock)
    manifest = {**_identity(spec), "as_of": as_of.isoformat(), "first_period": str(grid.periods[0].date()),
                "last_period": str(grid.periods[-1].date()), "rows": grid.n_areas * grid.n_periods,
                "areas": grid.area_ids.tolist(), "columns": columns, "parts": parts, "labels": labels, "counts": counts,
                "fingerprints": fps, "records": cache, "population": people.entry,
                "batches": {kind: max((v[-1] for v in fps[kind].values()), default=-1) for kind in ("petitions", "mediation")}}
    build_id = store.record_build(engine, data_dir=data_dir, manifest=manifest)
    record_cache.prune(data_dir=data_dir, period=spec.period, keep=cache)
    population_cache.prune(data_dir=data_dir, period=spec.period, keep=people.entry)
    timings["manifest"] = _lap(clock)
    return BuildResult(build_id=build_id, path=data_dir / store.ROOT / spec.period, rows=manifest["rows"],
                       areas=grid.n_areas, periods=grid.n_periods, recomputed_periods=grid.n_periods - lo,
                       features=len(columns), full=changed is None, reason=reason, as_of=as_of,
                       first_period=grid.periods[0].date(), last_period=grid.periods[-1].date(),
                       seconds=time.perf_counter() - began, timings=timings)


def _base(prev: dict | None, plan: _Plan, *, grid: Grid, data_dir: Path) -> dict[str, np.ndarray] | None:
    """The last build's counts at the period before the plan's first (``store.read_counts``), when the plan
    recomputes some periods and they can be vouched for: the counts are then made by difference from them."""
    if plan.changed is None or plan.up_to_date or plan.lo == 0:
        return None
    return store.read_counts(prev, data_dir=data_dir, at=grid.periods[plan.lo - 1].date(), n_areas=grid.n_areas)


def _warm_up() -> None:
    from features.pipeline import kernels  # numba loads here, in a thread, not when the API imports the pipeline

    kernels.warm_up()


def _labels(snap: Snapshot, *, spec: PanelSpec, as_of: dt.date, prev: dict | None, data_dir: Path) -> dict[str, str]:
    """Every period's label events and labels, stored a file per period; returns {period start: file}.

    Weighed anew (``prev`` None), or the last build's files kept up to the
    first period whose events or label can have moved and recomputed from
    there: its events corrected by every record read (``label_change_items``),
    plus the events of periods it did not have, weighed anew from every
    version read (a record it already knew can have its event there: a
    mediation case recorded with a closing date still to come fails on that
    date, and the last build dropped such events, outside its periods).
    The label of period p counts the events of p + LABEL_OFFSET to p +
    LABEL_OFFSET + horizon - 1 and is unknown until they have all ended, so
    the first period to recompute is the earliest of: the first whose
    window reaches a moved event, the first the last build left unknown,
    and the first it did not have (docs/adr/0014 decision 13).
    """
    grid, label_spec = snap.grid, spec.label
    observed = observed_periods(grid, as_of=as_of)
    if prev is None:
        events = np.ascontiguousarray(label_events(snap, spec=spec, known_at=as_of).T)  # [periods, areas]
        label = label_from_events(events.T, spec=label_spec, observed_periods=observed).T
        return store.write_label_periods(events, label, starts=grid.periods, data_dir=data_dir, period=spec.period)
    seen = min(len(prev["parts"]), grid.n_periods)
    rows = label_rows(snap, spec=spec)
    area, period, weight = label_change_items(rows, n_periods=grid.n_periods, known_at=as_of,
                                              before=dt.date.fromisoformat(prev["as_of"]), batches=prev["batches"])
    if grid.n_periods > seen:  # every record with an event there is read: its event lies within the history span
        old = period < seen  # the new periods' events are weighed whole, not corrected
        new = label_event_items(rows, n_periods=grid.n_periods, known_at=as_of, first_period=seen)
        area, period, weight = (np.concatenate([values[old], more]) for values, more in zip((area, period, weight), new))
    window = LABEL_OFFSET + label_spec.horizon - 1  # periods after p whose events p's label counts
    unknown_before = max(0, observed_periods(grid, as_of=dt.date.fromisoformat(prev["as_of"]), n_periods=seen) - window)
    first = min(seen, unknown_before, int(period.min()) - window if len(period) else seen)
    first = max(0, first) if store.labels_per_period(prev) else 0  # an older build's single files: every period anew
    if first >= grid.n_periods:  # no event moved, no period added, no label left unknown: the last build's files stand
        return dict(prev["labels"])
    events = np.zeros((grid.n_periods - first, grid.n_areas))  # [periods from ``first``, areas]
    if first < seen:
        events[: seen - first] = _stored_events(prev, data_dir=data_dir, days=[str(d.date()) for d in grid.periods[first:seen]])
    np.add.at(events, (period - first, area), weight)
    label = label_from_events(events.T, spec=label_spec, observed_periods=observed - first).T
    written = store.write_label_periods(events, label, starts=grid.periods[first:], data_dir=data_dir, period=spec.period)
    kept = {day: name for day, name in prev["labels"].items() if day < str(grid.periods[first].date())} if first else {}
    return {**kept, **written}


def _stored_events(prev: dict, *, data_dir: Path, days: list[str]) -> np.ndarray:
    """[len(days), areas]: the last build's label events of those periods, whichever way it stored them."""
    if store.labels_per_period(prev):
        return store.read_label_periods(prev, data_dir=data_dir, days=days)[:, 0]
    return store.read_events(prev, data_dir=data_dir)[:, : len(days)].T  # every period from the first: ``_labels``


def _lap(clock: list[float]) -> float:
    """Seconds since the last lap (``clock`` holds its time)."""
    now = time.perf_counter()
    seconds, clock[0] = now - clock[0], now
    return seconds
