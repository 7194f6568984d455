"""A failure in the middle of the write rolls back everything, the batch row included."""

from __future__ import annotations

import pytest

from features.ingest import write
from features.storage.tables import policy_areas
from tests.utils.records import frames_by_kind, stored_counts


def test_failure_on_the_second_table_leaves_nothing(engine, load, areas, monkeypatch) -> None:
    real = write.insert_rows

    def failing(connection, *, table, records):  # noqa: ANN001
        if table is policy_areas:
            raise RuntimeError("disk full")
        real(connection, table=table, records=records)

    monkeypatch.setattr(write, "insert_rows", failing)
    before = stored_counts(engine)
    with pytest.raises(RuntimeError, match="disk full"):
        load("policies", frames_by_kind()["policies"])
    assert stored_counts(engine) == before


def test_failure_after_the_first_chunk_leaves_nothing(engine, load, areas, monkeypatch) -> None:
    real = write.chunks

    def failing(records, *, size):  # noqa: ANN001
        for number, chunk in enumerate(real(records, size=size)):
            if number == 1:
                raise ConnectionError("connection lost")
            yield chunk

    monkeypatch.setattr(write, "CHUNK_ROWS", 4)
    monkeypatch.setattr(write, "chunks", failing)
    before = stored_counts(engine)
    with pytest.raises(ConnectionError):
        load("petitions", frames_by_kind()["petitions"])
    assert stored_counts(engine) == before
    monkeypatch.undo()
    report = load("petitions", frames_by_kind()["petitions"])  # and the same file loads once the fault is gone
    assert report.added == len(frames_by_kind()["petitions"]) and not report.already_loaded
