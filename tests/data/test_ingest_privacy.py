"""Areas, never people: person columns are dropped and the petitioner key only yields ``is_repeat``."""

from __future__ import annotations

import hashlib
import hmac

import pandas as pd
import sqlalchemy as sa

from features.contracts import PERSON_COLUMNS, PETITIONER_KEY_COLUMN
from features.ingest.privacy import derive_repeat
from features.storage.tables import metadata, petitions
from tests.data.conftest import HASH_KEY
from tests.utils.records import frames_by_kind

SECRETS = ["张三", "110101199003071234", "13800138000", "北京市东城区某街1号", "ID-7"]


def every_stored_text(engine) -> str:
    """Every cell of every table, as one text to search."""
    parts = []
    with engine.connect() as connection:
        for table in metadata.sorted_tables:
            for row in connection.execute(sa.select(table)):
                parts.extend(str(value) for value in row)
    return "\n".join(parts)


def test_person_columns_never_reach_the_database(engine, load, areas) -> None:
    frame = frames_by_kind()["petitions"].assign(
        petitioner_name=SECRETS[0], id_number=SECRETS[1], phone=SECRETS[2], 住址=SECRETS[3], **{PETITIONER_KEY_COLUMN: SECRETS[4]}
    )
    frame = frame.rename(columns={"petitioner_name": "Petitioner Name"})  # headers normalise first
    assert load("petitions", frame).added == len(frame)
    stored = every_stored_text(engine)
    assert not [secret for secret in SECRETS if secret in stored]
    digest = hmac.new(HASH_KEY, SECRETS[4].encode(), hashlib.sha256).hexdigest()
    assert digest not in stored and hashlib.sha256(SECRETS[4].encode()).hexdigest() not in stored
    columns = {column.name for table in metadata.sorted_tables for column in table.columns}
    assert not columns & {*PERSON_COLUMNS, PETITIONER_KEY_COLUMN}


def test_repeat_detection_uses_the_petitioner_key(engine, load, areas) -> None:
    frame = frames_by_kind()["petitions"].iloc[:6].assign(is_repeat="", category="labour_wages")
    frame[PETITIONER_KEY_COLUMN] = ["a", "b", " A ", "c", "b", None]
    frame.loc[3, "is_repeat"] = "true"  # a given repeat is kept
    frame.loc[4, "category"] = "land_demolition"  # same person, other category: not a repeat
    load("petitions", frame)
    with engine.connect() as connection:
        flags = dict(connection.execute(sa.select(petitions.c.petition_id, petitions.c.is_repeat)).all())
    assert flags == {"P00000": False, "P00001": False, "P00002": True, "P00003": True, "P00004": False,
                     "P00005": None}


def test_repeat_order_is_by_received_date_not_file_order() -> None:
    typed = pd.DataFrame({
        "category": pd.Series(["x", "x"], dtype="string"),
        "received_on": pd.to_datetime(["2023-03-01", "2023-01-01"]),
        "is_repeat": pd.Series([pd.NA, pd.NA], dtype="boolean"),
    })
    out = derive_repeat(typed, petitioner_keys=pd.Series(["k", "k"], dtype="string"), hash_key=b"key")
    assert out["is_repeat"].tolist() == [True, False]
    assert list(out.columns) == list(typed.columns)
