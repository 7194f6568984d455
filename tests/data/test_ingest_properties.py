"""Property-based checks of the loader: bad cells are named exactly; valid batches load idempotently."""

from __future__ import annotations

import datetime as dt
import uuid

import pandas as pd
import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from features.contracts import PETITION_CHANNELS, PETITION_LEVELS
from features.ingest import BatchRejected, load_file, load_frame
from features.storage.tables import petitions
from tests.data.conftest import HASH_KEY
from tests.utils.records import community_ids, petitions_frame, stored_counts, write_records_file

DB_SETTINGS = settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
BAD_CELLS = {
    "received_on": ["2023-13-45", "soon", "2023/2/30"],
    "people": ["-2", "lots", "1.5"],
    "channel": ["fax", "carrier pigeon"],
    "area_id": ["NOWHERE"],
    "category": [None, "   "],
    "satisfied": ["perhaps"],
    "closed_on": ["31.12.2023x"],
    "amount_of_nothing": ["ignored"],  # not a contract column: never an error
}


@st.composite
def injected(draw) -> tuple[int, dict[tuple[int, str], str | None]]:
    rows = draw(st.integers(3, 15))
    cells = draw(st.dictionaries(
        st.tuples(st.integers(0, rows - 1), st.sampled_from(sorted(BAD_CELLS))), st.just(None), min_size=1, max_size=8
    ))
    return rows, {cell: draw(st.sampled_from(BAD_CELLS[cell[1]])) for cell in cells}


@DB_SETTINGS
@given(case=injected())
def test_injected_bad_cells_are_named_exactly_and_nothing_is_written(engine, areas, case) -> None:
    rows, cells = case
    frame = petitions_frame(areas, n=rows)
    for (row, column), value in cells.items():
        frame.loc[row, column] = value
    expected = {(row + 2, column) for row, column in cells if column != "amount_of_nothing"}
    before = stored_counts(engine)
    if not expected:
        return
    with pytest.raises(BatchRejected) as caught:
        load_frame(engine, "petitions", frame, source="prop", hash_key=HASH_KEY, loaded_by="test")
    named = [(error.row, error.column) for error in caught.value.errors]
    assert sorted(named) == sorted(expected)
    assert stored_counts(engine) == before


dates = st.dates(dt.date(1990, 1, 1), dt.date(2030, 12, 31))
date_text = st.tuples(dates, st.sampled_from(["iso", "slash", "chinese"])).map(
    lambda pair: {"iso": pair[0].isoformat(), "slash": f"{pair[0].year}/{pair[0].month}/{pair[0].day}",
                  "chinese": f"{pair[0].year}年{pair[0].month}月{pair[0].day}日"}[pair[1]]
)
maybe = lambda strategy: st.one_of(st.just(""), strategy)  # noqa: E731 - a one-line combinator


@st.composite
def valid_petitions(draw, area_ids: list[str]) -> pd.DataFrame:
    n = draw(st.integers(1, 12))
    prefix = uuid.uuid4().hex[:8]
    rows = [dict(
        petition_id=f"{prefix}-{i}", area_id=draw(st.sampled_from(area_ids)), received_on=draw(date_text),
        category=draw(st.sampled_from(["劳资", "labour_wages", "environment"])),
        channel=draw(maybe(st.sampled_from([*PETITION_CHANNELS, "Visit"]))),
        people=draw(maybe(st.integers(0, 500).map(str))),
        level_reached=draw(maybe(st.sampled_from(PETITION_LEVELS))),
        is_repeat=draw(maybe(st.sampled_from(["true", "FALSE", "1", "0", "是", "否", "Yes", "no"]))),
        status=draw(maybe(st.sampled_from(["open", "closed"]))),
        satisfied=draw(maybe(st.sampled_from(["yes", "no"]))),
    ) for i in range(n)]
    return pd.DataFrame(rows, dtype="string")


@DB_SETTINGS
@given(data=st.data())
def test_any_valid_batch_loads_and_reloads_idempotently(engine, areas, tmp_path, data) -> None:
    frame = data.draw(valid_petitions(community_ids(areas)))
    path = write_records_file(frame, tmp_path / f"{frame['petition_id'][0]}.csv")
    options = dict(hash_key=HASH_KEY, loaded_by="test")
    first = load_file(engine, "petitions", path, **options)
    assert (first.added, first.corrected, first.unchanged) == (len(frame), 0, 0)
    after_first = stored_counts(engine)
    assert load_file(engine, "petitions", path, **options).already_loaded
    shuffled = frame.sample(frac=1, random_state=0)
    again = load_frame(engine, "petitions", shuffled, source="shuffled", **options)
    assert (again.added, again.corrected, again.unchanged) == (0, 0, len(frame))
    assert stored_counts(engine)["petitions"] == after_first["petitions"]


def reference_versions(batches: list[list[tuple[int, str]]]) -> list[list[tuple[int, str]] | None]:
    """The versioning rules applied one row at a time: stored versions after each batch, None if refused."""
    stored: list[tuple[int, str]] = []
    outcomes: list[list[tuple[int, str]] | None] = []
    for batch in batches:
        state = list(stored)
        refused = False
        for day, status in sorted(batch):
            if state and day <= state[-1][0]:
                current = [version for version in state if version[0] <= day] or state[:1]
                refused |= current[-1][1] != status
            elif not state or state[-1][1] != status:
                state.append((day, status))
        outcomes.append(None if refused else state)
        stored = stored if refused else state
    return outcomes


version_batches = st.lists(
    st.lists(st.tuples(st.integers(0, 6), st.sampled_from(["open", "closed"])), min_size=1, max_size=4,
             unique_by=lambda row: row[0]),
    min_size=1, max_size=3,
)


@DB_SETTINGS
@given(batches=version_batches)
def test_versioning_matches_the_row_by_row_rules(engine, areas, batches) -> None:
    petition_id = f"V{uuid.uuid4().hex[:10]}"
    base = petitions_frame(areas, n=1).assign(petition_id=petition_id, received_on="2023-01-01", closed_on="",
                                              satisfied="")
    for batch, expected in zip(batches, reference_versions(batches), strict=True):
        frame = pd.concat(
            [base.assign(recorded_on=(dt.date(2023, 1, 1) + dt.timedelta(days=day)).isoformat(), status=status)
             for day, status in batch], ignore_index=True,
        )
        try:
            load_frame(engine, "petitions", frame, source="versions", hash_key=HASH_KEY, loaded_by="test")
            refused = False
        except BatchRejected:
            refused = True
        assert refused == (expected is None)
        if expected is not None:
            with engine.connect() as connection:
                rows = connection.execute(
                    sa.select(petitions.c.version, petitions.c.recorded_on, petitions.c.status)
                    .where(petitions.c.petition_id == petition_id).order_by(petitions.c.version)
                ).all()
            assert [(recorded - dt.date(2023, 1, 1)).days for _, recorded, _ in rows] == [day for day, _ in expected]
            assert [status for _, _, status in rows] == [status for _, status in expected]
            assert [version for version, _, _ in rows] == list(range(1, len(expected) + 1))
