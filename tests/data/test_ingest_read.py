"""Reading: encodings, mapping files, headers, whitespace, and the three date formats."""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd
import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st

from features.ingest import BatchRejected, read_mapping
from features.ingest.dates import parse_dates
from features.storage.tables import areas as areas_table
from features.storage.tables import petitions
from tests.utils.records import areas_frame, frames_by_kind, petitions_frame, stored_counts

FORMATS = {
    "iso": lambda d: d.isoformat(),
    "slash": lambda d: f"{d.year}/{d.month}/{d.day}",
    "chinese": lambda d: f"{d.year}年{d.month}月{d.day}日",
}


@settings(max_examples=60, deadline=None)
@given(dates=st.lists(st.tuples(st.dates(dt.date(1900, 1, 1), dt.date(2200, 12, 31)), st.sampled_from(sorted(FORMATS))),
                      min_size=1, max_size=20))
def test_date_parser_round_trips_every_format_mixed_in_one_column(dates) -> None:
    text = pd.Series([FORMATS[fmt](day) for day, fmt in dates], dtype="string")
    parsed, bad = parse_dates(text)
    assert not bad.any()
    assert [value.date() for value in parsed] == [day for day, _ in dates]


@pytest.mark.parametrize("text", ["2023-13-45", "2023-02-30", "31/03/2012", "yesterday", "2012年13月1日", "20120331"])
def test_date_parser_flags_impossible_or_foreign_dates(text) -> None:
    parsed, bad = parse_dates(pd.Series([text, None, " 2012/3/31 0:00 "], dtype="string"))
    assert bad.tolist() == [True, False, False]
    assert parsed.isna().tolist() == [True, True, False]


def test_gb18030_file_with_chinese_names_and_dates(engine, load, tmp_path) -> None:
    areas = areas_frame()
    assert load("areas", areas, file_encoding="gb18030").added == len(areas)
    frame = petitions_frame(areas).assign(
        received_on=lambda f: [f"{d.year}年{d.month}月{d.day}日" for d in pd.to_datetime(f["received_on"])],
        category="劳资纠纷",
    )
    frame.loc[0, "received_on"] = "2012年3月31日"
    raw = tmp_path / "petitions-gbk.csv"
    frame.to_csv(raw, index=False, encoding="gb18030")
    with pytest.raises(UnicodeDecodeError):
        raw.read_bytes().decode("utf-8")
    assert load("petitions", raw).added == len(frame)
    with engine.connect() as connection:
        names = set(connection.execute(sa.select(areas_table.c.name)).scalars())
        first = connection.execute(sa.select(petitions).where(petitions.c.petition_id == "P00000")).mappings().one()
    assert "测试市" in names and "社区1-1" in names
    assert (first["received_on"], first["category"]) == (dt.date(2012, 3, 31), "劳资纠纷")


def test_utf8_bom_and_explicit_encoding(engine, load, tmp_path) -> None:
    areas = areas_frame()
    bom = tmp_path / "areas-bom.csv"
    areas.to_csv(bom, index=False, encoding="utf-8-sig")
    assert load("areas", bom).added == len(areas)
    gbk = tmp_path / "areas-gbk.csv"
    areas.to_csv(gbk, index=False, encoding="gbk")
    assert load("areas", gbk, encoding="gbk").unchanged == len(areas)
    with pytest.raises(BatchRejected, match="unknown encoding"):
        load("areas", gbk, encoding="klingon")


def test_mapping_file_renames_and_headers_are_normalised(engine, load, tmp_path) -> None:
    areas = areas_frame().rename(columns={"area_id": "编码", "name": "名称", "parent_id": " Parent ID ", "level": "LEVEL"})
    areas["名称"] = "  " + areas["名称"] + " "
    yaml_mapping = tmp_path / "map.yaml"
    yaml_mapping.write_text("编码: area_id\n名称: name\n", encoding="utf-8")
    mapping = read_mapping(yaml_mapping)
    assert mapping == {"编码": "area_id", "名称": "name"}
    assert load("areas", areas, mapping=mapping).added == len(areas)
    with engine.connect() as connection:
        names = set(connection.execute(sa.select(areas_table.c.name)).scalars())
    assert "测试市" in names  # stripped
    json_mapping = tmp_path / "map.json"
    json_mapping.write_text(json.dumps({"编码": "area_id", "名称": "name"}, ensure_ascii=False), encoding="utf-8")
    assert read_mapping(json_mapping) == mapping


def test_bad_mapping_file_is_refused(tmp_path) -> None:
    path = tmp_path / "map.yaml"
    path.write_text("- just\n- a list\n", encoding="utf-8")
    with pytest.raises(ValueError, match="must map source column names"):
        read_mapping(path)


def test_mapping_onto_an_existing_column_is_a_duplicate_column(engine, load) -> None:
    frame = frames_by_kind()["areas"].assign(code=lambda f: f["area_id"])
    before = stored_counts(engine)
    with pytest.raises(BatchRejected) as caught:
        load("areas", frame, mapping={"code": "area_id"})
    assert [(e.row, e.column, e.reason) for e in caught.value.errors] == [
        (None, "area_id", "duplicate column (after renaming)")
    ]
    assert stored_counts(engine) == before


def test_empty_file_is_refused(engine, load, tmp_path) -> None:
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    with pytest.raises(BatchRejected, match="empty"):
        load("areas", path)
