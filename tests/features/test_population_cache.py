"""The population cache: an incremental build answers population from its file while the database's signature matches."""

from __future__ import annotations

import datetime as dt
import os

import pandas as pd
import pytest
import sqlalchemy as sa

from features.pipeline import PanelSpec, build_features, population_cache, snapshot, store, versions
from features.pipeline.fingerprint import fingerprints
from features.storage.tables import population
from tests.features.factories import D, add_petitions, add_population, delete_all, petition
from tests.features.test_incremental import _assert_same

AS_OF = dt.date(2023, 12, 11)


def _entry(engine, data_dir) -> dict:
    return store.latest_manifest(engine, data_dir=data_dir, period="week")["population"]


def _new_week(engine, day: D) -> None:
    add_petitions(engine, [petition(area="S0C1", on=day, people=6)])


def _assert_answers_as_the_database(people: population_cache.Population, engine) -> None:
    """Fingerprints and rows from memory equal the SQL group-by and ``snapshot.load_population``, for any dates."""
    for as_of, since in ((AS_OF, None), (AS_OF, dt.date(2022, 12, 5)), (dt.date(2022, 1, 3), dt.date(2021, 6, 7))):
        assert people.fingerprints(as_of=as_of) == fingerprints(engine, as_of=as_of)["population"]
        pd.testing.assert_frame_equal(people.frame(since=since, as_of=as_of),
                                      snapshot.load_population(engine, since=since, as_of=as_of))


def test_a_build_caches_population_and_the_next_reads_only_its_signature(full_engine, tmp_path, monkeypatch) -> None:
    engine, spec = full_engine, PanelSpec()
    build_features(engine, spec=spec, data_dir=tmp_path)
    entry = _entry(engine, tmp_path)
    with engine.connect() as connection:
        rows = connection.execute(sa.select(sa.func.count()).select_from(population)).scalar()
    assert entry["rows"] == rows > 0 and entry["signature"] == population_cache.signature(engine)
    assert [p.name for p in population_cache.folder(tmp_path, "week").iterdir()] == [entry["file"]]
    _assert_answers_as_the_database(population_cache.read(engine, manifest={"population": entry}, data_dir=tmp_path,
                                                          period="week"), engine)
    fetched: list[str] = []
    real = versions.fetch

    def spy(engine_, statement):
        fetched.append(str(statement))
        return real(engine_, statement)

    monkeypatch.setattr(versions, "fetch", spy)
    _new_week(engine, D(2023, 12, 5))
    result = build_features(engine, spec=spec, data_dir=tmp_path)
    assert result.reason == "incremental" and _entry(engine, tmp_path) == entry
    assert not [sql for sql in fetched if "population" in sql]  # answered from the file
    _assert_same(engine, tmp_path, spec)


@pytest.mark.parametrize("change", ["added", "changed", "removed", "emptied"])
def test_a_changed_population_table_is_read_anew(full_engine, tmp_path, change: str) -> None:
    engine, spec = full_engine, PanelSpec()
    build_features(engine, spec=spec, data_dir=tmp_path)
    before = _entry(engine, tmp_path)
    if change == "added":
        add_population(engine, [dict(area_id="S1C1", period_start=D(2023, 6, 5), residents=9_000)])
    elif change == "changed":  # rows changed in place, even under the highest batch already there: the sum moves
        with engine.begin() as connection:
            top = connection.execute(sa.select(sa.func.max(population.c.batch_id))).scalar()
            connection.execute(population.update().where(population.c.area_id == "S0C0")
                               .values(residents=population.c.residents + 1, batch_id=top))
    elif change == "removed":
        with engine.begin() as connection:
            connection.execute(population.delete().where(population.c.area_id == "S0C0"))
    else:
        delete_all(engine, population)
    assert population_cache.signature(engine) != before["signature"]
    _new_week(engine, D(2023, 12, 5))
    people = population_cache.read(engine, manifest={"population": before}, data_dir=tmp_path, period="week")
    assert people.entry["signature"] != before["signature"]
    _assert_answers_as_the_database(people, engine)
    build_features(engine, spec=spec, data_dir=tmp_path)
    _assert_same(engine, tmp_path, spec)
    files = [p.name for p in population_cache.folder(tmp_path, "week").iterdir()]
    assert files == [_entry(engine, tmp_path)["file"]]  # the earlier file pruned


def test_a_population_file_that_cannot_be_vouched_for_is_read_anew(full_engine, tmp_path) -> None:
    engine, spec = full_engine, PanelSpec()
    build_features(engine, spec=spec, data_dir=tmp_path)
    entry = _entry(engine, tmp_path)
    path = population_cache.folder(tmp_path, "week") / entry["file"]
    path.write_bytes(path.read_bytes()[:-1] + b"\0")  # altered: its modification time moves, so it is hashed
    people = population_cache.read(engine, manifest={"population": entry}, data_dir=tmp_path, period="week")
    assert people.entry["sha256"] == entry["sha256"] and path.stat().st_mtime_ns != entry["mtime_ns"]  # read and written anew
    _assert_answers_as_the_database(people, engine)
    stat = path.stat()
    path.write_bytes(path.read_bytes()[:-1] + b"\0")  # altered with its time set back: it passes the quick check,
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # but is no Arrow file any more
    again = population_cache.read(engine, manifest={"population": people.entry}, data_dir=tmp_path, period="week")
    _assert_answers_as_the_database(again, engine)
    path.unlink()
    _new_week(engine, D(2023, 12, 5))
    assert build_features(engine, spec=spec, data_dir=tmp_path).reason == "incremental"
    _assert_same(engine, tmp_path, spec)


def test_the_cursor_path_caches_the_same_rows(full_engine, tmp_path, monkeypatch) -> None:
    engine = full_engine
    through_adbc = population_cache.read(engine, manifest=None, data_dir=tmp_path / "a", period="week")
    monkeypatch.setattr("features.pipeline.versions.read_arrow", lambda connection, sql: None)
    through_cursor = population_cache.read(engine, manifest=None, data_dir=tmp_path / "b", period="week")
    assert through_cursor.table.equals(through_adbc.table) and through_cursor.entry["sha256"] == through_adbc.entry["sha256"]


def test_the_signature_reads_an_index_not_the_table_and_migration_0008_round_trips(full_engine) -> None:
    """Every incremental build asks for the signature: over the covering index it reads no table row (migration 0008)."""
    from alembic import command

    from features.storage.migrate import alembic_config

    engine = full_engine

    def indexed() -> bool:
        return "ix_population_batch_residents" in {ix["name"] for ix in sa.inspect(engine).get_indexes("population")}

    before = population_cache.signature(engine)
    assert indexed() and before[0] > 0
    if engine.dialect.name == "sqlite":
        statement = population_cache.signature_statement()
        with engine.connect() as connection:
            sql = str(statement.compile(dialect=connection.dialect, compile_kwargs={"literal_binds": True}))
            plan = [row[-1] for row in connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}")]
        reads = [step for step in plan if "population" in step]
        assert len(reads) == 3 and all("COVERING INDEX ix_population_batch_residents" in step for step in reads), plan
    command.downgrade(alembic_config(engine), "0007")
    assert not indexed() and population_cache.signature(engine) == before  # the same answer, read the slow way
    command.upgrade(alembic_config(engine), "head")
    assert indexed()
