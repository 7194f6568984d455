"""Property: counting by difference from the counts at lo - 1 gives every feature a full count gives.

An incremental build reads only the records ``history_reach(by_difference=True)``
names (records an edge of a window crosses between lo - 1 and the end, by their
event or, for failed mediation, closing dates; records with events or closings in
[lo - 1, end); records recorded since lo - 1 starts) and adds what they change to the last build's counts at lo - 1
(``FeatureContext.count``). Here the records are drawn over more than a year
and a half of weeks, so every window edge (a year back and more, for the
year-on-year features) is crossed by some draws: every record feature of the
difference build must equal the full build's for periods [lo, end).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
from hypothesis import example, given, settings
from hypothesis import strategies as st

from features.pipeline.assemble import Snapshot, compute_block, history_reach
from features.pipeline.grid import make_grid
from features.pipeline.known import Reach
from features.pipeline.record_cache import NO_DAY
from features.pipeline.spec import PanelSpec
from features.pipeline.versions import epoch_day

FIRST = pd.Timestamp("2022-01-03")  # a Monday
WEEKS = 80  # more than a year and a quarter (the year-on-year windows reach 66 weeks back)
AREAS = pd.DataFrame({"area_id": ["S0", "C0", "C1", "C2"], "parent_id": [None, "S0", "S0", "S0"],
                      "level": ["street", "community", "community", "community"]})
ADJACENCY = pd.DataFrame({"area_id": ["C0"], "neighbor_id": ["C1"]})
FIELDS = {"petitions": ("received_on", "category", "people", "level_reached", "is_repeat", "satisfied"),
          "mediation": ("opened_on", "dispute_type", "outcome", "origin", "parties", "amount")}


def _day(offset: int) -> pd.Timestamp:
    return FIRST + pd.Timedelta(days=offset)


END = WEEKS * 7  # the day after the panel's last week
NEAR = [1, 2, 3, 4, 5, 6, 13, 14, 15, 16, 52, 53, 54, 55, 65, 66, 67, 68]  # weeks back: on and beside the windows' edges


def _near_edge() -> st.SearchStrategy[int]:
    """A day in a week on or beside a window's edge, counted back from the end."""
    return st.tuples(st.sampled_from(NEAR), st.integers(0, 6)).map(lambda w: END - 7 * w[0] + w[1])


@st.composite
def _record(draw, kind: str) -> list[dict]:
    """One record's versions: an event (often on or beside a window's edge), a closing date or none (often in the
    last weeks or on or beside a window's edge), corrections recorded later with other fields; sometimes recorded late, in the last weeks."""
    event = draw(st.one_of(st.integers(0, END - 1), _near_edge()))
    recorded = event + draw(st.one_of(st.integers(0, 6), st.integers(0, 60)))
    recorded = draw(st.sampled_from([recorded, max(event, END - draw(st.integers(1, 21)))]))
    closed = draw(st.one_of(st.none(), st.integers(0, 120), st.integers(1, 21).map(lambda d: max(0, END - d - event)),
                            _near_edge().map(lambda day: max(0, day - event))))  # failures count when closed
    out = []
    for _ in range(draw(st.integers(1, 3))):
        version = {"area_id": draw(st.sampled_from(["C0", "C1", "C2"])), "recorded_on": _day(recorded),
                   "closed_on": None if closed is None else _day(event + closed)}
        if kind == "petitions":
            version |= {"received_on": _day(event), "category": draw(st.sampled_from(["labour_wages", "medical", "x"])),
                        "people": float(draw(st.integers(1, 8))), "level_reached": draw(st.sampled_from(["county", "province", None])),
                        "is_repeat": float(draw(st.booleans())), "satisfied": draw(st.sampled_from([1.0, 0.0, np.nan]))}
        else:
            version |= {"opened_on": _day(event), "dispute_type": draw(st.sampled_from(["land_demolition", "marriage_family"])),
                        "outcome": draw(st.sampled_from(["agreement", "failed", "referred", None])),
                        "origin": draw(st.sampled_from(["screened", "reported", None])),
                        "parties": float(draw(st.integers(2, 12))), "amount": draw(st.sampled_from([np.nan, 500_000.0]))}
        out.append(version)
        recorded += draw(st.integers(1, 90))  # the next version, recorded later (it may be past the panel)
        closed = draw(st.sampled_from([closed, None, 14]))
    return out


def _frame(records: list[list[dict]], kind: str) -> pd.DataFrame:
    """Versions with ``superseded_on`` (the next version's recording date) and a record id, as the snapshot has them."""
    rows = [{**version, "rid": rid, "superseded_on": versions[i + 1]["recorded_on"] if i + 1 < len(versions) else None}
            for rid, versions in enumerate(records) for i, version in enumerate(versions)]
    columns = ["rid", "area_id", "recorded_on", "superseded_on", "closed_on", *FIELDS[kind]]
    frame = pd.DataFrame(rows, columns=columns)
    for name in ("recorded_on", "superseded_on", "closed_on", FIELDS[kind][0]):
        frame[name] = pd.to_datetime(frame[name]).astype("datetime64[ns]")
    return frame


def _days(values: pd.Series) -> np.ndarray:
    days = values.to_numpy(dtype="datetime64[D]").astype(np.int64)
    return np.where(values.isna().to_numpy(), NO_DAY, days)


def _reached(frame: pd.DataFrame, kind: str, *, reach, as_of: pd.Timestamp) -> pd.DataFrame:
    """The versions known at ``as_of`` of every record one of whose versions ``reach`` names (``Known._frame``'s rule)."""
    known = frame[frame["recorded_on"] < as_of]
    closing_event = None if reach.closing_events is None else (known[reach.closing_events[0]] == reach.closing_events[1]).to_numpy()
    wanted = reach.wanted(event=_days(known[FIELDS[kind][0]]), closed=_days(known["closed_on"]), recorded=_days(known["recorded_on"]),
                          closing_event=closing_event)
    return known[known["rid"].isin(set(known["rid"][wanted]))]


def _first_events(frames: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """The earliest event per recording date, of every version (``Known.first_events``: never only of those read)."""
    stacked = pd.concat([pd.DataFrame({"recorded_on": f["recorded_on"], "first_on": f[FIELDS[k][0]]}) for k, f in frames.items()])
    return stacked.groupby("recorded_on", as_index=False)["first_on"].min()


def _snapshot(grid, frames: dict[str, pd.DataFrame], as_of: pd.Timestamp, first_events: pd.DataFrame) -> Snapshot:
    frames = {kind: frame.drop(columns="rid").reset_index(drop=True) for kind, frame in frames.items()}
    available = {f"{kind}.{name}" for kind in frames for name in ("area_id", "closed_on", *FIELDS[kind])} | {"areas.parent_id",
                                                                                                           "adjacency.neighbor_id"}
    return Snapshot(as_of.date(), grid, available, frames, None, None, first_events)


# A petition known long before lo - 1, its event in no window's edge band, closed in period lo - 1: it leaves the
# open backlog at lo, so its closing date alone must get it read (rare among random draws).
_CLOSED_BEFORE_THE_NEW_WEEK = [{"area_id": "C0", "recorded_on": _day(END - 60), "closed_on": _day(END - 10),
                                "received_on": _day(END - 61), "category": "labour_wages", "people": 1.0,
                                "level_reached": None, "is_repeat": 0.0, "satisfied": np.nan}]
_A_CASE = [{"area_id": "C1", "recorded_on": _day(3), "closed_on": None, "opened_on": _day(2), "dispute_type": "marriage_family",
            "outcome": None, "origin": None, "parties": 2.0, "amount": np.nan}]


@settings(max_examples=60, deadline=None)
@given(petitions=st.lists(_record("petitions"), min_size=1, max_size=40),
       mediation=st.lists(_record("mediation"), min_size=1, max_size=25),
       new=st.integers(1, 3))
@example(petitions=[_CLOSED_BEFORE_THE_NEW_WEEK], mediation=[_A_CASE], new=1)
def test_counting_by_difference_equals_counting_in_full(petitions, mediation, new: int) -> None:
    spec = PanelSpec()
    grid = make_grid(areas=AREAS, adjacency=ADJACENCY, record_areas=pd.Series(["C0"]), first=FIRST,
                     last=FIRST + pd.Timedelta(weeks=WEEKS - 1), period="week", week_start="monday")
    as_of = grid.periods[-1] + pd.Timedelta(days=3)
    lo = grid.n_periods - new  # the periods a build after the last one recomputes
    frames = {"petitions": _frame(petitions, "petitions"), "mediation": _frame(mediation, "mediation")}
    everything = {kind: frame[frame["recorded_on"] < as_of] for kind, frame in frames.items()}
    first_events = _first_events(everything)
    base = compute_block(_snapshot(grid, everything, as_of, first_events), lo=0, hi=lo).counts  # every count at lo - 1
    full = compute_block(_snapshot(grid, everything, as_of, first_events), lo=lo, hi=grid.n_periods).features
    read = {kind: _reached(frame, kind, reach=history_reach(spec, grid, lo, kind=kind, by_difference=True), as_of=as_of)
            for kind, frame in frames.items()}
    by_difference = compute_block(_snapshot(grid, read, as_of, first_events), lo=lo, hi=grid.n_periods, base=base).features
    assert set(by_difference) == set(full)
    for name, values in full.items():
        np.testing.assert_allclose(by_difference[name], values, rtol=1e-5, atol=1e-4, err_msg=name)


@settings(max_examples=200, deadline=None)
@given(spans=st.lists(st.tuples(st.integers(0, 60), st.integers(1, 10)), min_size=1, max_size=5),
       days=st.lists(st.none() | st.integers(-5, 130), max_size=50))
def test_a_day_is_wanted_when_it_lies_in_one_of_the_ranges(spans, days) -> None:
    """``Reach.wanted`` looks days up in a table of the sorted, disjoint ranges: the same as asking each range, for days
    before, between, inside and after them and for no day at all (``NO_DAY``, the lowest int32)."""
    base, ranges, at = dt.date(2023, 1, 2), [], 0
    for gap, size in spans:
        ranges.append((base + dt.timedelta(days=at + gap), base + dt.timedelta(days=at + gap + size)))
        at += gap + size + 1
    epoch = [None if d is None else epoch_day(base) + d for d in days]
    given_days = np.array([NO_DAY if d is None else d for d in epoch], dtype=np.int32)
    none = np.full(len(days), NO_DAY, dtype=np.int32)
    want = [d is not None and any(epoch_day(a) <= d < epoch_day(b) for a, b in ranges) for d in epoch]
    assert Reach(event_in=tuple(ranges)).wanted(event=given_days, closed=none, recorded=none).tolist() == want
    assert Reach(event_in=tuple(ranges)).wanted(event=none, closed=given_days, recorded=none).tolist() == want
