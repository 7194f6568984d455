"""Assemble the panel: load a snapshot, compute every present catalogue feature, attach the label.

``build_panel`` is the full in-memory build. ``compute_block`` computes the
features of a block of periods on its own, which is what the incremental
build reuses; both go through the same code, so incremental equals full by
construction (and by test).
"""

from __future__ import annotations

import datetime as dt
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial

import numpy as np
import pandas as pd
from sqlalchemy.engine import Engine

from features.calendar import period_start
from features.catalogue import WINDOWS, catalogue, history_span, window_edges
from features.labels import event_weights, label_from_events, label_observed_at
from features.pipeline import counts, policy, population, resolution, seasonality, snapshot, spatial, trends
from features.pipeline.context import CLOSING_EVENTS, FeatureContext, Records, encode
from features.pipeline.grid import Grid, make_grid
from features.pipeline.intervals import first_known
from features.pipeline.known import Known, Reach
from features.pipeline.population_cache import Population
from features.pipeline.progress import Steps
from features.pipeline.spec import BOOKKEEPING, LABEL, PanelSpec, check_panel

_RECORDLESS = ("policy", "population", "seasonality")  # catalogue families that read no petition or mediation
HANDLERS = {**counts.HANDLERS, **trends.HANDLERS, **resolution.HANDLERS, **population.HANDLERS,
            **spatial.HANDLERS, **seasonality.HANDLERS, **policy.HANDLERS}


@dataclass
class Snapshot:
    """What the database knew on ``as_of``, ready for computing."""

    as_of: dt.date
    grid: Grid
    available: set[str]
    frames: dict[str, pd.DataFrame]
    population: pd.DataFrame | None
    policies: pd.DataFrame | None
    first_events: pd.DataFrame
    dropped: int = 0


def resolve_as_of(engine: Engine, *, spec: PanelSpec, as_of: dt.date | None, known: Known | None = None) -> dt.date:
    """The knowledge date: the day after the last recording, never after local tomorrow."""
    if as_of is not None:
        return as_of
    tomorrow = spec.local_today() + dt.timedelta(days=1)
    last = known.last_recorded(before=tomorrow) if known is not None else snapshot.knowledge_span(engine, as_of=tomorrow)[1]
    if last is None:
        raise LookupError("no petitions or mediation cases are recorded: load records before building features")
    return last + dt.timedelta(days=1)


def panel_grid(engine: Engine, *, spec: PanelSpec, as_of: dt.date, known: Known | None = None) -> Grid:
    """The areas and periods of the panel as known on ``as_of`` (the record side from ``known`` when given)."""
    if known is not None:
        first, with_records = known.first_event(as_of=as_of), known.record_areas(as_of=as_of)
    else:
        first, _last = snapshot.knowledge_span(engine, as_of=as_of)
        with_records = snapshot.record_areas(engine, as_of=as_of)
    if first is None:
        raise LookupError(f"no petitions or mediation cases were recorded before {as_of}")
    areas, edges = snapshot.load_areas(engine)
    starts = period_start(pd.DatetimeIndex([first, as_of]), spec.period, spec.week_start)
    return make_grid(areas=areas, adjacency=edges, record_areas=pd.Series(with_records, dtype=object),
                     first=starts[0], last=starts[1], period=spec.period, week_start=spec.week_start)


def history_reach(spec: PanelSpec, grid: Grid, lo: int, *, kind: str, by_difference: bool = False) -> Reach:
    """The records of ``kind`` periods [lo, end) can still read, or (``by_difference``) can still move a count in.

    Counted in full, that is every record with an event within ``history_span``
    periods before ``lo``. Counted by difference from the counts at lo - 1, it
    is the records an edge of a window (``window_edges``) crosses between lo - 1
    and the end, plus those with events in [lo - 1, end), which the labels of
    new periods weigh (docs/adr/0014 decision 12). A closing date moves a count
    only where it lies, in [lo - 1, end), unless windows are laid over it too
    (``CLOSING_EVENTS``: a failed mediation counts when the case closes); then
    it is read by the windows' edges like an event. Either way also every
    record recorded since lo - 1 starts: its versions' knowledge and
    supersession move.
    """
    if lo <= 0:
        return Reach()
    changed_since = grid.start_of(lo - 1).date()
    if not by_difference:
        return Reach(event_from=grid.start_of(lo - history_span(spec.period) - 1).date(), changed_since=changed_since)
    spans = sorted([(lo - edge, grid.n_periods - edge) for edge in window_edges(spec.period)] + [(lo - 1, grid.n_periods)])
    merged: list[list[int]] = []
    for first, last in spans:
        if merged and first <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], last)
        else:
            merged.append([first, last])
    event_in = tuple((grid.start_of(first).date(), grid.start_of(last).date()) for first, last in merged)
    return Reach(changed_since=changed_since, event_in=event_in, closed_in=((changed_since, grid.start_of(grid.n_periods).date()),),
                 closing_events=CLOSING_EVENTS.get(kind))


def _context(engine: Engine, *, spec: PanelSpec, as_of: dt.date, grid: Grid, lo: int, available: set[str],
             people: Population | None = None) -> tuple[pd.DataFrame | None, pd.DataFrame | None]:
    """Population (from what periods [lo, end) can read; from ``people`` when given) and policies."""
    year = WINDOWS[spec.period]["Y"]
    population_from = grid.start_of(lo - 2 * year - 1).date() if lo > 0 else None  # carried a year, compared a year back
    load_population = people.frame if people is not None else partial(snapshot.load_population, engine)
    pop = load_population(since=population_from, as_of=as_of) if "population.residents" in available else None
    pol = snapshot.load_policies(engine, as_of=as_of) if "policy_areas.area_id" in available else None
    return pop, pol


def load_snapshot(engine: Engine, *, spec: PanelSpec, as_of: dt.date, grid: Grid | None = None, lo: int = 0) -> Snapshot:
    """Read what periods [lo, end) need: with ``lo`` > 0 only records that can still count there
    (an event within ``history_span`` periods before ``lo``) or that changed since ``lo``'s knowledge date."""
    grid = grid if grid is not None else panel_grid(engine, spec=spec, as_of=as_of)
    available = snapshot.available_fields(engine, as_of=as_of)
    if grid.parent.max(initial=-1) >= 0:
        available.add("areas.parent_id")
    reach = history_reach(spec, grid, lo, kind="petitions")  # counted in full: the same rule for both kinds
    frames = {kind: snapshot.load_versions(engine, kind=kind, as_of=as_of, event_from=reach.event_from, changed_since=reach.changed_since)
              for kind in ("petitions", "mediation") if f"{kind}.area_id" in available}
    pop, pol = _context(engine, spec=spec, as_of=as_of, grid=grid, lo=lo, available=available)
    return Snapshot(as_of, grid, available, frames, pop, pol, snapshot.first_events(engine, as_of=as_of))


Context = tuple[set[str], pd.DataFrame | None, pd.DataFrame | None]  # available fields, population, policies


def known_context(engine: Engine, known: Known, *, spec: PanelSpec, as_of: dt.date, grid: Grid, lo: int = 0,
                  people: Population | None = None) -> Context:
    """What ``load_snapshot`` reads besides the records, for periods [lo, end): small, and read from the database
    (population from ``people``, the population cache, when given)."""
    available = known.available(as_of=as_of) | snapshot.context_fields(engine, as_of=as_of)
    if grid.parent.max(initial=-1) >= 0:
        available.add("areas.parent_id")
    return available, *_context(engine, spec=spec, as_of=as_of, grid=grid, lo=lo, available=available, people=people)


def known_frames(known: Known, *, spec: PanelSpec, as_of: dt.date, grid: Grid, lo: int = 0,
                 by_difference: bool = False) -> dict[str, pd.DataFrame]:
    """The record versions periods [lo, end) can read (or, ``by_difference``, move a count in), as
    ``load_snapshot``'s frames, from memory."""
    return known.frames(as_of=as_of, reaches={kind: history_reach(spec, grid, lo, kind=kind, by_difference=by_difference)
                                              for kind in ("petitions", "mediation")})


def assemble_snapshot(known: Known, *, as_of: dt.date, grid: Grid, frames: dict[str, pd.DataFrame], context: Context) -> Snapshot:
    """A snapshot of ``known_frames`` and ``known_context`` (kinds without a recorded area left out)."""
    available, pop, pol = context
    frames = {kind: frame for kind, frame in frames.items() if f"{kind}.area_id" in available}
    return Snapshot(as_of, grid, available, frames, pop, pol, known.first_events(as_of=as_of))


def known_snapshot(engine: Engine, known: Known, *, spec: PanelSpec, as_of: dt.date, grid: Grid, lo: int = 0,
                   people: Population | None = None) -> Snapshot:
    """``load_snapshot`` with the record side taken from memory (the record cache); the rest is small and read
    (in a second thread, while the records are turned into frames)."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        reading = pool.submit(known_context, engine, known, spec=spec, as_of=as_of, grid=grid, lo=lo, people=people)
        frames = known_frames(known, spec=spec, as_of=as_of, grid=grid, lo=lo)
        context = reading.result()
    return assemble_snapshot(known, as_of=as_of, grid=grid, frames=frames, context=context)


def present_features(snap: Snapshot) -> list[str]:
    """The catalogue features whose inputs this snapshot holds."""
    ctx = FeatureContext(grid=snap.grid, lo=0, hi=0, available=snap.available, records={}, handlers=HANDLERS)
    return [spec.name for spec in catalogue(snap.grid.period) if ctx.present(spec)]


@dataclass
class Block:
    """What ``compute_block`` made: the features, and every count at the block's last period (the next build's base)."""

    features: dict[str, np.ndarray]
    counts: dict[str, np.ndarray]


def compute_block(snap: Snapshot, *, lo: int, hi: int, steps: Steps | None = None, release: bool = False,
                  base: dict[str, np.ndarray] | None = None) -> Block:
    """Every present catalogue feature for periods [lo, hi), as [areas, periods] float32 arrays.

    The two record kinds are encoded side by side, and the mediation
    features (``med_…``) and those that read no records (policies,
    population, season) are computed in a second thread while this one
    computes the others: numpy releases the GIL in most of the passes, so
    both cores work. With ``release`` each kind's frame leaves
    ``snap.frames`` once encoded (for a caller that has taken what else it
    needs from them, e.g. the labels): the frames and the encoded records are
    never in memory together. With ``base`` (every count at lo - 1, as the
    last build stored them) the snapshot holds only the records that can move
    a count from there (``history_reach(by_difference=True)``), and counts
    are made by difference (``FeatureContext.count``).
    """
    grid = snap.grid

    def prepare(kind: str) -> tuple[Records, int]:
        frame = snap.frames.pop(kind) if release else snap.frames[kind]
        encoded, dropped = encode(frame, kind=kind, grid=grid)
        del frame
        if lo > 0:  # a few periods at the end: most windows need only the latest events (FeatureContext.count)
            return encoded.by_event(), dropped
        return encoded.by_family_area(), dropped  # every period: families as slices, bins filled in order

    with ThreadPoolExecutor(max_workers=2) as pool:
        prepared = dict(zip(list(snap.frames), pool.map(prepare, list(snap.frames))))
        records = {kind: encoded for kind, (encoded, _) in prepared.items()}
        snap.dropped += sum(dropped for _, dropped in prepared.values())
        fe = snap.first_events
        ctx = FeatureContext(grid=grid, lo=lo, hi=hi, available=snap.available, records=records, population=snap.population,
                             policies=snap.policies, handlers=HANDLERS, base=base,
                             first_known=first_known(event=grid.period_index(fe["first_on"]),
                                                     known_from=grid.period_index(fe["recorded_on"]) + 1, lo=lo, hi=hi))
        specs = [spec for spec in catalogue(grid.period) if ctx.present(spec)]
        # Features that read mediation only (by name), and those that read no records at all (policies,
        # population, season), go to the second thread: about as much work as the petitions' features in
        # this one. The others that may read mediation (lags of mediation features, escalations) wait for
        # it, so no count is computed twice (it would only cost time: the memo is a dict, and every entry
        # is the same whoever sets it).
        side = [spec.name for spec in specs if spec.name.startswith("med_") or spec.family in _RECORDLESS]
        later = [spec.name for spec in specs if spec.name not in side and ("med_" in spec.name or spec.name.startswith("esc_"))]
        mediation = pool.submit(lambda: [ctx.feature(name) for name in side])
        for spec in specs:
            if spec.name not in side and spec.name not in later:
                ctx.feature(spec.name)
        mediation.result()
    out: dict[str, np.ndarray] = {}
    for spec in specs:
        out[spec.name] = np.ascontiguousarray(ctx.feature(spec.name), dtype=np.float32)
        if steps is not None:
            steps.advance(spec.family)
    return Block(features=out, counts=ctx.counts_at_last())


LabelRows = dict[str, dict[str, np.ndarray]]  # per kind, per version: see ``label_rows``


def label_rows(snap: Snapshot, *, spec: PanelSpec) -> LabelRows:
    """Per kind, every version's label event — panel ``area`` (-1: outside), event ``period``, ``weight`` (1 for an
    event the label counts) — and what says whether it was the latest version known on a date (``recorded``,
    ``batch``, ``superseded``, ``next_batch``), as numpy arrays made once: the labels ask several questions of the
    same versions (``label_event_items``, ``label_change_items``), each then a few array comparisons, where asking
    the frames each time cost pandas' per-call overhead on every question (~40 ms a weekly build).
    """
    grid, frames = snap.grid, snap.frames
    if "petitions" not in frames:
        return {}
    # Every version is weighed and those not the latest get no weight: cheaper than copying the latest versions'
    # fields out of millions (event_weights gives petitions' weights first, then mediation's).
    weighed = event_weights(spec.label, petitions=frames["petitions"], mediation=frames.get("mediation"))
    return {kind: {"area": grid.area_index(area_ids), "period": grid.period_index(dates), "weight": weight,
                   "recorded": frames[kind]["recorded_on"].to_numpy(), "batch": frames[kind]["batch_id"].to_numpy(),
                   "superseded": frames[kind]["superseded_on"].to_numpy(), "next_batch": frames[kind]["next_batch"].to_numpy()}
            for (area_ids, dates, weight), kind in zip(weighed, ("petitions", "mediation"))}


def _latest(rows: dict[str, np.ndarray], *, kind: str, known_at: dt.date, batches: dict[str, float] | None) -> np.ndarray:
    """Which versions were the latest known at ``known_at`` (of the batches up to ``batches``)."""
    when = np.datetime64(pd.Timestamp(known_at).to_datetime64(), "ns")
    ceiling = np.inf if batches is None else batches.get(kind, -1)
    keep = (rows["recorded"] < when) & (rows["batch"] <= ceiling)
    superseded = (rows["superseded"] < when) & (rows["next_batch"] <= ceiling)  # NaT and NaN compare False: never
    return keep & ~superseded


def label_event_items(rows: LabelRows, *, n_periods: int, known_at: dt.date, batches: dict[str, float] | None = None,
                      first_period: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(area, period, weight) of every label event of the latest versions recorded before ``known_at``.

    With ``batches`` (the highest load batch per kind an earlier build had
    seen) only the versions that build saw count: a back-dated batch loaded
    since then was not part of what it knew. With ``first_period`` only the
    events of that period and later ones.
    """
    return _joined([_items(of, _latest(of, kind=kind, known_at=known_at, batches=batches), n_periods=n_periods,
                           first_period=first_period) for kind, of in rows.items()])


def _items(of: dict[str, np.ndarray], keep: np.ndarray, *, n_periods: int, first_period: int = 0
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(area, period, weight) of the label events of one kind's versions ``keep`` marks, in periods [first_period, n)."""
    ok = keep & (of["area"] >= 0) & (of["weight"] > 0) & (of["period"] >= first_period) & (of["period"] < n_periods)
    return of["area"][ok], of["period"][ok], of["weight"][ok]


def _joined(items: list[tuple[np.ndarray, np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    if not items:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), np.zeros(0)
    return tuple(np.concatenate(parts) for parts in zip(*items))  # type: ignore[return-value]


def label_events(snap: Snapshot, *, spec: PanelSpec, known_at: dt.date, batches: dict[str, float] | None = None) -> np.ndarray:
    """[areas, periods] label events (``label_event_items``) of the whole panel, in one pass over it."""
    grid = snap.grid
    area, period, weight = label_event_items(label_rows(snap, spec=spec), n_periods=grid.n_periods, known_at=known_at,
                                             batches=batches)
    events = np.bincount(area * grid.n_periods + period, weights=weight, minlength=grid.n_areas * grid.n_periods)
    return events.reshape(grid.n_areas, grid.n_periods)


def label_change_items(rows: LabelRows, *, n_periods: int, known_at: dt.date, before: dt.date,
                       batches: dict[str, float]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Label events known at ``known_at`` and, with negative weights, those an earlier build knew (on ``before``,
    up to ``batches``): added to that build's events they give today's (``label_event_items``).

    Only versions whose standing differs between the two views can move a
    count, so only they are weighed: the difference is the same.
    """
    items = []
    for kind, of in rows.items():
        now, then = _latest(of, kind=kind, known_at=known_at, batches=None), _latest(of, kind=kind, known_at=before, batches=batches)
        area, period, weight = _items(of, then & ~now, n_periods=n_periods)  # latest then, no longer now
        items += [_items(of, now & ~then, n_periods=n_periods), (area, period, -weight)]
    return _joined(items)


def observed_periods(grid: Grid, *, as_of: dt.date, n_periods: int | None = None) -> int:
    """How many of the first ``n_periods`` (all) periods had ended by ``as_of``: their outcomes are complete."""
    n = grid.n_periods if n_periods is None else n_periods
    ends = grid.periods[1:n].append(pd.DatetimeIndex([grid.start_of(n)]))  # each period ends where the next starts
    return int((ends <= pd.Timestamp(as_of)).sum()) if n else 0


def label_columns(events: np.ndarray, *, grid: Grid, spec: PanelSpec, as_of: dt.date) -> tuple[np.ndarray, np.ndarray]:
    """The [areas, periods] labels from the per-period event counts, and each period's ``label_observed_at``."""
    label = label_from_events(events, spec=spec.label, observed_periods=observed_periods(grid, as_of=as_of))
    return label, label_observed_at(grid.periods, period=grid.period, horizon=spec.label.horizon)


def attach_label(frame: pd.DataFrame, *, events: np.ndarray, grid: Grid, spec: PanelSpec, as_of: dt.date) -> pd.DataFrame:
    """Label every row of a (period-major) panel frame from the per-period event counts."""
    label, observed_at = label_columns(events, grid=grid, spec=spec, as_of=as_of)
    first = int(grid.period_index(frame["period_start"].iloc[:1])[0]) if len(frame) else 0
    n = len(frame) // grid.n_areas
    frame[LABEL] = label[:, first : first + n].T.ravel()
    frame[BOOKKEEPING[0]] = np.repeat(observed_at[first : first + n], grid.n_areas)
    return frame


def to_frame(grid: Grid, *, lo: int, hi: int, arrays: dict[str, np.ndarray]) -> pd.DataFrame:
    """Period-major rows (every area of a period together): one Parquet part per period.

    Features are copied one by one into a single float32 block and released
    from ``arrays`` as they go, so the panel never exists twice in memory.
    """
    n, names = hi - lo, list(arrays)
    block = np.empty((len(names), n * grid.n_areas), dtype=np.float32)
    for i, name in enumerate(names):
        np.copyto(block[i].reshape(n, grid.n_areas), arrays.pop(name).T)
    frame = pd.DataFrame(block.T, columns=names, copy=False)
    frame.insert(0, "period_start", np.repeat(grid.periods[lo:hi].values.astype("datetime64[ns]"), grid.n_areas))
    frame.insert(0, "area_id", pd.Categorical.from_codes(np.tile(np.arange(grid.n_areas), n), categories=grid.area_ids.tolist()))
    return frame


def build_panel(engine: Engine, *, spec: PanelSpec, as_of: dt.date | None = None, progress: bool = False) -> pd.DataFrame:
    """The full panel as known on ``as_of`` (default: the day after the last recording)."""
    as_of = resolve_as_of(engine, spec=spec, as_of=as_of)
    with Steps(total=len(catalogue(spec.period)) + 2, enabled=progress, what="features") as steps:
        snap = load_snapshot(engine, spec=spec, as_of=as_of)
        steps.advance("records")
        arrays = compute_block(snap, lo=0, hi=snap.grid.n_periods, steps=steps).features
        events = label_events(snap, spec=spec, known_at=as_of)
        snap.frames.clear()  # the records are no longer needed: free them before the panel is laid out
        frame = to_frame(snap.grid, lo=0, hi=snap.grid.n_periods, arrays=arrays)
        frame = attach_label(frame, events=events, grid=snap.grid, spec=spec, as_of=as_of)
        steps.advance("labels")
    frame.attrs.update(as_of=as_of.isoformat(), period=spec.period, dropped_records=snap.dropped)
    return check_panel(frame)


