"""Re-loads add nothing; corrections become new versions; conflicting changes are refused."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
import sqlalchemy as sa

from features.ingest import BatchRejected, load_frame
from features.storage.tables import mediation_cases, petitions
from tests.utils.records import frames_by_kind, stored_counts


def versions(engine, table, id_column: str, record_id: str) -> list[dict]:
    with engine.connect() as connection:
        rows = connection.execute(
            sa.select(table).where(table.c[id_column] == record_id).order_by(table.c.version)
        ).mappings().all()
    return [dict(row) for row in rows]


def test_same_file_twice_is_already_loaded(engine, load, areas, tmp_path) -> None:
    frame = frames_by_kind()["petitions"]
    path = tmp_path / "p.csv"
    frame.to_csv(path, index=False)
    first = load("petitions", path)
    before = stored_counts(engine)
    again = load("petitions", path)
    assert again.already_loaded and again.batch_id == first.batch_id and again.added == 0
    assert stored_counts(engine) == before


def test_same_rows_in_another_file_are_unchanged(engine, load, areas) -> None:
    frame = frames_by_kind()["petitions"]
    load("petitions", frame)
    before = stored_counts(engine)
    shuffled = frame.sample(frac=1, random_state=1).rename(columns=str.upper)
    shuffled["RECEIVED_ON"] = shuffled["RECEIVED_ON"].str.replace("-", "/")
    report = load("petitions", shuffled)
    assert (report.added, report.corrected, report.unchanged, report.already_loaded) == (0, 0, len(frame), False)
    after = stored_counts(engine)
    assert after["petitions"] == before["petitions"]
    assert after["load_batches"] == before["load_batches"] + 1  # the trail records the second load


def test_correction_with_later_recorded_on_is_version_2_and_version_1_is_kept(engine, load, areas) -> None:
    frame = frames_by_kind()["petitions"]
    load("petitions", frame)
    corrected = frame.iloc[[1]].assign(status="closed", satisfied="no", recorded_on="2023-04-01")
    report = load("petitions", corrected)
    assert (report.added, report.corrected, report.unchanged) == (0, 1, 0)
    stored = versions(engine, petitions, "petition_id", "P00001")
    assert [(row["version"], row["recorded_on"], row["satisfied"]) for row in stored] == [
        (1, dt.date(2023, 1, 5), True), (2, dt.date(2023, 4, 1), False)
    ]
    assert stored[0]["content_hash"] != stored[1]["content_hash"]
    # The original export, re-loaded later, is history that matches version 1: nothing changes.
    assert load("petitions", frame.iloc[[1]]).unchanged == 1
    # The correction re-sent at a later date with the same content is not a new version either.
    assert load("petitions", corrected.assign(recorded_on="2023-05-01")).unchanged == 1


def test_change_without_later_recorded_on_is_refused(engine, load, areas) -> None:
    frame = frames_by_kind()["mediation"]
    load("mediation", frame)
    changed = frame.iloc[[0, 2]].assign(outcome="failed")
    changed.loc[changed.index[1], "outcome"] = frame.loc[2, "outcome"]  # the second row is unchanged
    before = stored_counts(engine)
    with pytest.raises(BatchRejected) as caught:
        load("mediation", changed)
    assert [(e.row, e.column, e.reason) for e in caught.value.errors] == [
        (2, "recorded_on", "mediation case M00000 already stored with different content; "
                           "a correction needs a later recorded_on than 2023-01-03"),
    ]
    assert stored_counts(engine) == before
    assert len(versions(engine, mediation_cases, "case_id", "M00000")) == 1


def test_several_versions_in_one_batch(engine, load, areas) -> None:
    frame = frames_by_kind()["petitions"].iloc[[0]]
    history = [
        frame.assign(recorded_on="2023-01-02", status="open"),
        frame.assign(recorded_on="2023-02-01", status="open"),  # same content: not a version
        frame.assign(recorded_on="2023-03-01", status="closed"),
        frame.assign(recorded_on="2023-04-01", status="open"),  # reopened: a version again
    ]
    batch = pd.concat(history[::-1], ignore_index=True)  # file order does not matter
    report = load("petitions", batch)
    assert (report.added, report.corrected, report.unchanged) == (1, 2, 1)
    stored = versions(engine, petitions, "petition_id", "P00000")
    assert [(row["version"], row["status"], row["recorded_on"].isoformat()) for row in stored] == [
        (1, "open", "2023-01-02"), (2, "closed", "2023-03-01"), (3, "open", "2023-04-01")
    ]
    assert load("petitions", batch.iloc[::-1]).unchanged == 4


def test_non_versioned_change_is_refused(engine, load, areas) -> None:
    frame = frames_by_kind()["population"]
    load("population", frame)
    with pytest.raises(BatchRejected) as caught:
        load("population", frame.iloc[[2]].assign(residents="1"))
    assert [(e.row, e.column) for e in caught.value.errors] == [(2, "area_id")]
    assert "population record C103/2022-01-01 already stored with different content" in str(caught.value)


def test_frames_load_like_files(engine, areas) -> None:
    frame = frames_by_kind()["policies"]
    report = load_frame(engine, "policies", frame, source="sql:policies", hash_key=b"k", loaded_by="job")
    assert (report.added, report.source) == (2, "sql:policies")
    assert load_frame(engine, "policies", frame, source="sql:policies", hash_key=b"k", loaded_by="job").already_loaded
