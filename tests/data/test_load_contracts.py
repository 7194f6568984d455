"""Every record contract loads from CSV and from Parquet, with the values stored as typed."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
import sqlalchemy as sa

from features.contracts import KINDS
from features.ingest import load_frame
from features.storage.tables import RECORD_TABLES, load_batches, petitions, policies, policy_areas
from tests.utils.records import frames_by_kind, stored_counts


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_every_kind_loads(engine, load, suffix) -> None:
    frames = frames_by_kind()
    for kind in KINDS:  # areas first, so every reference resolves
        report = load(kind, frames[kind], suffix=suffix)
        assert (report.rows_in, report.added, report.unchanged, report.already_loaded) == (
            len(frames[kind]), len(frames[kind]), 0, False
        )
    counts = stored_counts(engine)
    assert {kind: counts[RECORD_TABLES[kind].name] for kind in KINDS} == {k: len(f) for k, f in frames.items()}
    assert counts["load_batches"] == len(KINDS)
    assert counts["policy_areas"] == 3
    with engine.connect() as connection:
        first = connection.execute(sa.select(petitions).where(petitions.c.petition_id == "P00001")).mappings().one()
        policy = connection.execute(sa.select(policies).where(policies.c.policy_id == "POL1")).mappings().one()
        linked = connection.execute(
            sa.select(policy_areas.c.area_id).where(policy_areas.c.policy_id == "POL1").order_by(policy_areas.c.area_id)
        ).scalars().all()
        batches = connection.execute(sa.select(load_batches.c.kind, load_batches.c.loaded_by)).all()
    assert first["version"] == 1
    assert first["received_on"] == first["recorded_on"] == dt.date(2023, 1, 5)
    assert (first["people"], first["is_repeat"], first["satisfied"], first["closed_on"]) == (2, True, True, dt.date(2023, 1, 15))
    assert (policy["hearing_held"], policy["households_affected"], policy["compensation_ratio"]) == (True, 350, 0.8)
    assert policy["description"] == "北区征地"
    assert linked == ["C101", "C102"]
    assert {kind for kind, _ in batches} == set(KINDS) and {by for _, by in batches} == {"test"}


def test_csv_and_parquet_of_the_same_rows_are_the_same_records(engine, load, areas) -> None:
    frame = frames_by_kind()["mediation"]
    assert load("mediation", frame, suffix=".csv").added == len(frame)
    again = load("mediation", frame, suffix=".parquet")
    assert (again.added, again.corrected, again.unchanged) == (0, 0, len(frame))


def test_typed_parquet_columns_load(engine, load, areas) -> None:
    frame = frames_by_kind()["population"]
    typed = frame.assign(
        period_start=pd.to_datetime(frame["period_start"]), residents=frame["residents"].astype("int64"),
        elderly_share=frame["elderly_share"].astype(float),
    )
    assert load("population", typed, suffix=".parquet").added == len(frame)
    assert load("population", frame, suffix=".csv").unchanged == len(frame)


def test_areas_keep_geometry_as_text_and_blank_parent_as_root(engine, load) -> None:
    load("areas", frames_by_kind()["areas"])
    table = RECORD_TABLES["areas"]
    with engine.connect() as connection:
        rows = {row.area_id: row for row in connection.execute(sa.select(table))}
    assert rows["X0"].parent_id is None
    assert rows["C101"].geometry.startswith('{"type": "Point"')
    assert rows["D1"].geometry is None


def test_typed_frame_and_its_csv_are_the_same_records(engine, load, areas) -> None:
    text = frames_by_kind()["petitions"]
    typed = text.assign(
        received_on=pd.to_datetime(text["received_on"]).dt.date,  # datetime.date objects
        people=pd.to_numeric(text["people"]).astype("Int64").mask(text.index == 0),
        is_repeat=text["is_repeat"] == "true",
        channel=text["channel"].str.upper(),
    )
    text = text.assign(people=text["people"].mask(text.index == 0, ""))
    report = load_frame(engine, "petitions", typed, source="typed", hash_key=b"k", loaded_by="test")
    assert report.added == len(typed)
    assert load("petitions", text).unchanged == len(text)
