"""The record cache: incremental builds read only new batches, equal a full rebuild, and fall back when in doubt."""

from __future__ import annotations

import os
import shutil
import sys

import pandas as pd
import pyarrow as pa
import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st

from features.pipeline import PanelSpec, build_features, load_panel, record_cache, store, versions
from features.storage.migrate import alembic_config
from features.storage.tables import load_batches, petitions
from tests.features.factories import D, add_cases, add_petitions, case, petition
from tests.features.test_incremental import _assert_same


def _manifest(engine, data_dir) -> dict:
    return store.latest_manifest(engine, data_dir=data_dir, period="week")


def _new_week(engine, day: D, *, batch_id: int | None = None) -> None:
    add_petitions(engine, [petition(area="S0C1", on=day, people=6), petition(area="S1C0", on=day, category="medical")],
                  batch_id=batch_id)
    add_cases(engine, [case(area="S1C2", on=day, outcome="failed", dispute_type="land_demolition", closed_on=day)],
              batch_id=None if batch_id is None else batch_id + 1)


def test_incremental_reads_new_batches_and_equals_full(full_engine, tmp_path) -> None:
    engine, spec = full_engine, PanelSpec()
    # an old collective petition, corrected below: its old label event must leave, its new one arrive
    add_petitions(engine, [petition(area="S0C0", on=D(2022, 2, 1), recorded=D(2022, 2, 3), pid="PX", people=7)])
    first = build_features(engine, spec=spec, data_dir=tmp_path)
    assert first.full
    cache = _manifest(engine, tmp_path)["records"]
    assert [len(cache["segments"][kind]) for kind in ("petitions", "mediation")] == [1, 1]
    add_petitions(engine, [petition(area="S1C1", on=D(2023, 11, 27), recorded=D(2023, 12, 6), pid="PX", version=2, people=1,
                                    level_reached="province")])
    _new_week(engine, D(2023, 12, 5))
    second = build_features(engine, spec=spec, data_dir=tmp_path)
    assert not second.full and second.reason == "incremental" and second.recomputed_periods <= 2
    after = _manifest(engine, tmp_path)["records"]
    assert len(after["segments"]["petitions"]) == 2 and after["watermark"]["petitions"] > cache["watermark"]["petitions"]
    _assert_same(engine, tmp_path, spec)
    files = {path.name for path in record_cache.folder(tmp_path, "week").iterdir()}
    listed = {item[key] for items in after["segments"].values() for item in items for key in ("file", "summary")}
    assert files == listed  # older ones pruned


@pytest.mark.parametrize("lookup", [versions.LATEST_LOOKUP, 0])
def test_a_correction_takes_its_cached_records_id_from_the_tail_the_database_names(full_engine, tmp_path, monkeypatch,
                                                                                    lookup: int) -> None:
    """Corrections of records cached in different segments, one last recorded long before the other: each finds its
    record among the cached rows from the earlier one's day on (or, over ``LATEST_LOOKUP`` ids, among all of them)."""
    engine, spec = full_engine, PanelSpec()
    monkeypatch.setattr(versions, "LATEST_LOOKUP", lookup)
    asked = []
    latest = versions.latest_recorded
    monkeypatch.setattr(versions, "latest_recorded", lambda *a, **kw: asked.append(kw["ids"]) or latest(*a, **kw))
    add_petitions(engine, [petition(area="S0C0", on=D(2022, 2, 1), recorded=D(2022, 2, 3), pid="OLD", people=7)])
    build_features(engine, spec=spec, data_dir=tmp_path)
    add_petitions(engine, [petition(area="S0C2", on=D(2023, 12, 4), recorded=D(2023, 12, 5), pid="NEW", people=6)])
    build_features(engine, spec=spec, data_dir=tmp_path)
    assert not asked  # only first versions so far: nothing to look up
    add_petitions(engine, [petition(area="S1C1", on=D(2022, 2, 1), recorded=D(2023, 12, 12), pid="OLD", version=2, people=1),
                           petition(area="S0C2", on=D(2023, 12, 4), recorded=D(2023, 12, 12), pid="NEW", version=2, people=1),
                           petition(area="S1C0", on=D(2023, 12, 11), recorded=D(2023, 12, 12), pid="BOTH", people=2),
                           petition(area="S1C0", on=D(2023, 12, 11), recorded=D(2023, 12, 12), pid="BOTH", version=2, people=9)])
    third = build_features(engine, spec=spec, data_dir=tmp_path)
    assert not third.full and third.reason == "incremental"
    assert [sorted(ids) for ids in asked] == ([["BOTH", "NEW", "OLD"]] if lookup else [])
    _assert_same(engine, tmp_path, spec)


def test_a_changed_or_missing_segment_rebuilds_in_full(full_engine, tmp_path) -> None:
    engine, spec = full_engine, PanelSpec()
    build_features(engine, spec=spec, data_dir=tmp_path)
    segment = record_cache.folder(tmp_path, "week") / _manifest(engine, tmp_path)["records"]["segments"]["petitions"][0]["file"]
    segment.write_bytes(segment.read_bytes()[:-1] + b"\0")
    _new_week(engine, D(2023, 12, 5))
    rebuilt = build_features(engine, spec=spec, data_dir=tmp_path)
    assert rebuilt.full and "record cache" in rebuilt.reason
    _assert_same(engine, tmp_path, spec)
    for key in ("file", "summary"):  # a missing segment, then a missing summary
        entry = _manifest(engine, tmp_path)["records"]["segments"]["mediation"][0]
        record_cache.folder(tmp_path, "week").joinpath(entry[key]).unlink()
        _new_week(engine, D(2023, 12, 12 if key == "file" else 19))
        assert build_features(engine, spec=spec, data_dir=tmp_path).full
        _assert_same(engine, tmp_path, spec)


def test_segments_as_written_are_not_hashed_but_a_forced_rebuild_hashes_them(full_engine, tmp_path, monkeypatch) -> None:
    """The quick check (size and modification time as written) stands in for the hash; ``full`` always hashes."""
    engine, spec = full_engine, PanelSpec()
    build_features(engine, spec=spec, data_dir=tmp_path)
    hashed: list[str] = []
    real = record_cache.file_sha256

    def spy(path):  # every cached segment hashes wrong: only a segment that is hashed can be found changed
        hashed.append(path.name)
        return "0" * 64 if path.suffix == ".arrow" else real(path)

    monkeypatch.setattr(record_cache, "file_sha256", spy)
    _new_week(engine, D(2023, 12, 5))
    assert build_features(engine, spec=spec, data_dir=tmp_path).reason == "incremental"
    assert not [name for name in hashed if name.endswith(".arrow")]  # only the new segments, as they were written
    rebuilt = build_features(engine, spec=spec, data_dir=tmp_path, full=True)
    assert "record cache segment" in rebuilt.reason and [name for name in hashed if name.endswith(".arrow")]
    # a segment whose modification time moved is hashed by an incremental build too
    segment = record_cache.folder(tmp_path, "week") / _manifest(engine, tmp_path)["records"]["segments"]["petitions"][0]["file"]
    os.utime(segment, ns=(segment.stat().st_atime_ns, segment.stat().st_mtime_ns + 10**9))
    _new_week(engine, D(2023, 12, 12))
    again = build_features(engine, spec=spec, data_dir=tmp_path)
    assert again.full and "record cache segment" in again.reason
    monkeypatch.undo()
    _assert_same(engine, tmp_path, spec)


def test_an_unreadable_segment_as_written_rebuilds_in_full(full_engine, tmp_path) -> None:
    """A segment that passes the quick check but cannot be opened is not a cache: every version is read again."""
    engine, spec = full_engine, PanelSpec()
    build_features(engine, spec=spec, data_dir=tmp_path)
    segment = record_cache.folder(tmp_path, "week") / _manifest(engine, tmp_path)["records"]["segments"]["petitions"][0]["file"]
    stat = segment.stat()
    segment.write_bytes(segment.read_bytes()[:-1] + b"\0")  # the file's closing magic bytes
    os.utime(segment, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    _new_week(engine, D(2023, 12, 5))
    rebuilt = build_features(engine, spec=spec, data_dir=tmp_path)
    assert rebuilt.full and "record cache segment" in rebuilt.reason
    _assert_same(engine, tmp_path, spec)


@pytest.mark.parametrize("how", ["removed", "changed in place"])
def test_a_removed_or_changed_version_rebuilds_in_full(full_engine, tmp_path, how: str) -> None:
    """Versions are appended, never edited: one removed or edited by hand moves its table's change counter (the
    triggers of migration 0009), and the next build reads every version anew instead of trusting the cache."""
    engine, spec = full_engine, PanelSpec()
    build_features(engine, spec=spec, data_dir=tmp_path)
    with engine.begin() as connection:
        victim = connection.execute(sa.select(petitions.c.petition_id).order_by(petitions.c.petition_id).limit(1)).scalar()
        chosen = petitions.c.petition_id == victim
        connection.execute(petitions.delete().where(chosen) if how == "removed" else
                           petitions.update().where(chosen).values(category="medical", people=40))
    _new_week(engine, D(2023, 12, 5))
    records = record_cache.read(engine, manifest=_manifest(engine, tmp_path), data_dir=tmp_path, period="week")
    assert not records.from_cache and "petitions were changed or removed in place" in records.reason
    rebuilt = build_features(engine, spec=spec, data_dir=tmp_path)
    assert rebuilt.full
    if how == "removed":
        assert "removed" in rebuilt.reason  # the fingerprints see it too
    _assert_same(engine, tmp_path, spec)
    assert build_features(engine, spec=spec, data_dir=tmp_path).reason == "up to date"  # the new cache is trusted


def test_a_lower_batch_committed_after_the_cache_rebuilds_in_full(full_engine, tmp_path) -> None:
    """Batch ids are taken when a load starts: a load that commits after a later one leaves its rows below the
    cache's watermark, where reading ``batch_id > watermark`` would miss them. The load batches counted up to the
    watermark tell."""
    engine, spec = full_engine, PanelSpec()
    with engine.begin() as connection:
        top = connection.execute(sa.select(sa.func.max(load_batches.c.batch_id))).scalar()
    _new_week(engine, D(2023, 11, 28), batch_id=top + 10)  # the later load, committed first
    build_features(engine, spec=spec, data_dir=tmp_path)
    assert _manifest(engine, tmp_path)["records"]["watermark"]["petitions"] == top + 10
    _new_week(engine, D(2023, 11, 29), batch_id=top + 5)  # the earlier load, committed late
    records = record_cache.read(engine, manifest=_manifest(engine, tmp_path), data_dir=tmp_path, period="week")
    assert not records.from_cache and f"a load batch up to {top + 10} was committed after" in records.reason
    rebuilt = build_features(engine, spec=spec, data_dir=tmp_path)
    assert rebuilt.full
    _assert_same(engine, tmp_path, spec)


def test_migration_0009_counts_changes_and_round_trips(engine) -> None:
    """The triggers count every UPDATE or DELETE of a versioned record table, not an INSERT; the migration goes back
    and forth."""
    from alembic import command

    def counts() -> dict[str, int]:
        return versions.standing(engine).changes

    start = counts()
    add_petitions(engine, [petition(area="S0C1", on=D(2023, 11, 6))])
    assert counts() == start
    with engine.begin() as connection:
        connection.execute(petitions.update().values(people=3))
    assert counts()["petitions"] > start["petitions"] and counts()["mediation"] == start["mediation"]
    command.downgrade(alembic_config(engine), "0008")
    assert "record_changes" not in sa.inspect(engine).get_table_names()
    command.upgrade(alembic_config(engine), "head")
    assert counts() == {"petitions": 0, "mediation": 0}


def test_the_cursor_path_builds_the_same_cache(full_engine, tmp_path, monkeypatch) -> None:
    engine, spec = full_engine, PanelSpec()
    monkeypatch.setattr("features.pipeline.versions.read_arrow", lambda connection, sql: None)
    build_features(engine, spec=spec, data_dir=tmp_path)
    _new_week(engine, D(2023, 12, 5))
    assert not build_features(engine, spec=spec, data_dir=tmp_path).full
    _assert_same(engine, tmp_path, spec)


def test_many_segments_are_compacted(full_engine, tmp_path, monkeypatch) -> None:
    engine, spec = full_engine, PanelSpec()
    monkeypatch.setattr(record_cache, "MAX_SEGMENTS", 2)
    build_features(engine, spec=spec, data_dir=tmp_path)
    for day in (D(2023, 12, 5), D(2023, 12, 12), D(2023, 12, 19)):
        _new_week(engine, day)
        assert not build_features(engine, spec=spec, data_dir=tmp_path).full
        assert len(_manifest(engine, tmp_path)["records"]["segments"]["petitions"]) <= 2
    _assert_same(engine, tmp_path, spec)


def test_month_panels_use_the_cache_too(full_engine, tmp_path) -> None:
    engine, spec = full_engine, PanelSpec(period="month")
    build_features(engine, spec=spec, data_dir=tmp_path)
    _new_week(engine, D(2023, 12, 5))
    result = build_features(engine, spec=spec, data_dir=tmp_path)
    assert not result.full and result.recomputed_periods <= 2
    _assert_same(engine, tmp_path, spec)


def test_migration_0007_indexes_batch_ids_and_round_trips(engine) -> None:
    from alembic import command

    def indexed() -> set[str]:
        inspector = sa.inspect(engine)
        return {ix["name"] for table in ("petitions", "mediation_cases") for ix in inspector.get_indexes(table)}

    assert {"ix_petitions_batch_id", "ix_mediation_cases_batch_id"} <= indexed()
    command.downgrade(alembic_config(engine), "0006")
    assert not {"ix_petitions_batch_id", "ix_mediation_cases_batch_id"} & indexed()
    command.upgrade(alembic_config(engine), "head")
    assert {"ix_petitions_batch_id", "ix_mediation_cases_batch_id"} <= indexed()



def test_a_forced_full_rebuild_reads_the_cache_and_equals_the_cold_build(full_engine, tmp_path, monkeypatch) -> None:
    engine, spec = full_engine, PanelSpec()
    cold = build_features(engine, spec=spec, data_dir=tmp_path)
    assert cold.full and cold.reason == "first build"
    cold_panel = load_panel(engine, data_dir=tmp_path)
    reads = []
    original = versions.read
    monkeypatch.setattr(versions, "read", lambda engine, **kw: reads.append(kw.get("after_batch")) or original(engine, **kw))
    shutil.rmtree(tmp_path / store.ROOT / "week" / "parts")  # every part is written again, none reused
    rebuilt = build_features(engine, spec=spec, data_dir=tmp_path, full=True)
    assert rebuilt.full and rebuilt.reason == "full rebuild requested" and rebuilt.recomputed_periods == rebuilt.periods
    assert reads and None not in reads  # only batches after the cache's watermark were asked of the database
    pd.testing.assert_frame_equal(load_panel(engine, data_dir=tmp_path), cold_panel)
    _new_week(engine, D(2023, 12, 5))  # new batches, then a forced rebuild: the cache plus the new batches
    again = build_features(engine, spec=spec, data_dir=tmp_path, full=True)
    assert again.full and again.recomputed_periods == again.periods
    _assert_same(engine, tmp_path, spec)


@settings(max_examples=80, deadline=None)
@given(rows=st.lists(st.tuples(st.integers(0, 40), st.integers(-5, 60), st.none() | st.integers(-5, 60)), max_size=40),
       offset=st.sampled_from([0, 7, 3_000_000]))
def test_reach_is_the_latest_day_over_every_version_of_the_record(rows, offset: int) -> None:
    """``with_reach`` gives each row its record's latest event, closing or recording day, whether the record ids are
    dense (a full read) or a few among millions (a new batch with corrections of cached records)."""
    rid = [offset + r * (1 if offset < 1000 else 97) for r, _, _ in rows]
    table = pa.table({"rid": pa.array(rid, pa.int64()), "received_on": pa.array([d for _, d, _ in rows], pa.int32()),
                      "recorded_on": pa.array([d + 1 for _, d, _ in rows], pa.int32()),
                      "closed_on": pa.array([c for _, _, c in rows], pa.int32())})
    latest: dict[int, int] = {}
    for r, (_, day, closed) in zip(rid, rows):
        latest[r] = max(latest.get(r, record_cache.NO_DAY), day, day + 1, record_cache.NO_DAY if closed is None else closed)
    assert record_cache.with_reach(table).column("reach").to_pylist() == [latest[r] for r in rid]


def test_the_reader_is_warmed_up_beside_the_first_questions_without_opening_the_database(engine, tmp_path, monkeypatch) -> None:
    """A build loads the columnar reader's driver in a thread while it asks the database its first questions; on
    SQLite that opens an in-memory database only (another library must not open the build's file meanwhile)."""
    from features.pipeline import columnar, incremental

    already = set(sys.modules)
    opened: list[str] = []
    if engine.dialect.name == "sqlite":
        import adbc_driver_sqlite

        connect = adbc_driver_sqlite.connect
        monkeypatch.setattr(adbc_driver_sqlite, "connect", lambda uri=None, **kw: opened.append(uri) or connect(uri, **kw))
    columnar.warm_up(engine.url)
    assert opened == ([":memory:"] if engine.dialect.name == "sqlite" else [])
    assert "pyarrow.dataset" not in sys.modules or "pyarrow.dataset" in already  # the low-level API only: no Acero
    columnar.warm_up(sa.make_url("mysql://nobody@127.0.0.1/none"))  # no driver for it: nothing happens, nothing raised
    warmed = []
    monkeypatch.setattr(columnar, "warm_up", lambda url: warmed.append(url))
    with pytest.raises(LookupError):  # an empty database: the build stops, the reader was warmed up first all the same
        incremental.build_features(engine, spec=PanelSpec(), data_dir=tmp_path)
    assert warmed == [engine.url]
