"""Labels stored a file per period: an incremental build rewrites only the periods whose events or label can move,
reads builds that stored them the earlier way, and equals a full rebuild (docs/adr/0014 decision 13)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from features.labels import LabelSpec, label_observed_at
from features.pipeline import PanelSpec, build_features, load_panel, store
from features.pipeline.spec import BOOKKEEPING, LABEL
from tests.features.factories import D, add_petitions, petition
from tests.features.test_incremental import _assert_same


def _manifest(engine, data_dir, period: str = "week") -> dict:
    return store.latest_manifest(engine, data_dir=data_dir, period=period)


def _rewritten(before: dict, after: dict) -> list[str]:
    """The periods whose label file the later build wrote anew."""
    return sorted(day for day, name in after["labels"].items() if before["labels"].get(day) != name)


@pytest.mark.parametrize("horizon", [1, 3])
def test_a_new_week_rewrites_only_the_periods_its_records_and_the_clock_can_move(full_engine, tmp_path, horizon: int) -> None:
    engine, spec = full_engine, PanelSpec(label=LabelSpec(horizon=horizon))
    last = build_features(engine, spec=spec, data_dir=tmp_path).last_period
    before = _manifest(engine, tmp_path)
    assert store.labels_per_period(before) and sorted(before["labels"]) == sorted(before["parts"])
    new_week = last + dt.timedelta(weeks=1)  # a label event in a period the last build did not have
    add_petitions(engine, [petition(area="S0C0", on=new_week, recorded=new_week + dt.timedelta(days=1), people=7)])
    build_features(engine, spec=spec, data_dir=tmp_path)
    after = _manifest(engine, tmp_path)
    rewritten = _rewritten(before, after)
    # the new period, the last build's last ones (their labels were unknown), those whose window reaches the new event
    assert rewritten and len(rewritten) <= horizon + 3, rewritten
    assert min(rewritten) >= str(new_week - dt.timedelta(weeks=horizon + 2))
    assert store.read_events(after, data_dir=tmp_path)[:, -1].sum() == 1
    _assert_same(engine, tmp_path, spec)


def test_a_late_entry_about_an_old_period_rewrites_from_the_first_label_it_moves(full_engine, tmp_path) -> None:
    engine, spec = full_engine, PanelSpec(label=LabelSpec(horizon=2))
    build_features(engine, spec=spec, data_dir=tmp_path)
    before = _manifest(engine, tmp_path)
    # a collective petition about March 2022, recorded only now: its period's label and the one before it move
    add_petitions(engine, [petition(area="S1C1", on=D(2022, 3, 9), recorded=D(2023, 12, 5), people=9)])
    build_features(engine, spec=spec, data_dir=tmp_path)
    after = _manifest(engine, tmp_path)
    rewritten = _rewritten(before, after)
    assert min(rewritten) == "2022-02-28"  # week of 2022-03-07 minus horizon - 1 = one week
    kept = [day for day in before["labels"] if day < "2022-02-28"]
    assert kept and all(after["labels"][day] == before["labels"][day] for day in kept)
    events = store.read_events(after, data_dir=tmp_path)
    week = sorted(after["labels"]).index("2022-03-07")
    assert events[:, week].sum() == store.read_events(before, data_dir=tmp_path)[:, week].sum() + 1
    _assert_same(engine, tmp_path, spec)


def _as_before_per_period_labels(engine, data_dir) -> dict:
    """Record a build like the latest, with its labels stored as builds did before decision 13: one Parquet file of
    every row's label and ``label_observed_at``, one ``.npy`` of the [areas, periods] label events."""
    manifest = _manifest(engine, data_dir)
    days = sorted(manifest["labels"])
    rows = store.read_label_periods(manifest, data_dir=data_dir, days=days)
    folder = data_dir / store.ROOT / "week" / "labels"
    observed = label_observed_at(np.array(days, dtype="datetime64[ns]"), period="week", horizon=manifest["label"]["horizon"])
    table = pa.table({LABEL: rows[:, 1].ravel(), BOOKKEEPING[0]: np.repeat(observed, rows.shape[2])})
    pq.write_table(table, folder / "labels-old.parquet")
    np.save(folder / "events-old.npy", np.ascontiguousarray(rows[:, 0].T))
    old = {key: value for key, value in manifest.items() if key != "build_id"}
    store.record_build(engine, data_dir=data_dir, manifest={**old, "labels": "labels-old.parquet", "events": "events-old.npy"})
    return _manifest(engine, data_dir)


def test_a_build_that_stored_its_labels_the_earlier_way_is_read_and_carried_on(full_engine, tmp_path) -> None:
    engine, spec = full_engine, PanelSpec()
    build_features(engine, spec=spec, data_dir=tmp_path)
    stored = load_panel(engine, data_dir=tmp_path)
    old = _as_before_per_period_labels(engine, tmp_path)
    assert not store.labels_per_period(old)
    assert load_panel(engine, data_dir=tmp_path).equals(stored)
    add_petitions(engine, [petition(area="S0C1", on=D(2023, 12, 5), recorded=D(2023, 12, 6), people=6)])
    result = build_features(engine, spec=spec, data_dir=tmp_path)
    assert result.reason == "incremental"
    after = _manifest(engine, tmp_path)
    assert store.labels_per_period(after) and sorted(after["labels"]) == sorted(after["parts"])  # every period anew
    _assert_same(engine, tmp_path, spec)
