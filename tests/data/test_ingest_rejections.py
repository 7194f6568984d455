"""Bad input never half-lands: every offending row and column is named, and nothing is written."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import pytest

from features.ingest import BatchRejected
from tests.utils.records import frames_by_kind, stored_counts

Mutation = Callable[[pd.DataFrame], pd.DataFrame]


def cell(row: int, column: str, value: str | None) -> Mutation:
    """Set one cell; ``row`` is the 0-based frame position (spreadsheet row = row + 2)."""
    def mutate(frame: pd.DataFrame) -> pd.DataFrame:
        frame = frame.copy()
        frame.loc[row, column] = value
        return frame
    return mutate


def append(**values: str) -> Mutation:
    return lambda frame: pd.concat([frame, pd.DataFrame([values], dtype="string")], ignore_index=True)


CASES = {
    "missing required column": ("petitions", lambda f: f.drop(columns=["category"]),
                                [(None, "category", "missing required column", None)]),
    "unparseable date": ("petitions", cell(2, "received_on", "2023-13-45"),
                         [(4, "received_on", "unparseable date", "2023-13-45")]),
    "bad number": ("petitions", cell(0, "people", "many"), [(2, "people", "bad number", "many")]),
    "fractional count": ("petitions", cell(0, "people", "2.5"), [(2, "people", "count is not a whole number:", "2.5")]),
    "negative count": ("population", cell(3, "residents", "-5"), [(5, "residents", "negative count", "-5")]),
    "share outside [0,1]": ("population", cell(1, "elderly_share", "1.5"),
                            [(3, "elderly_share", "share outside [0, 1]:", "1.5")]),
    "negative amount": ("mediation", cell(4, "amount", "-3"), [(6, "amount", "negative value", "-3")]),
    "value not in choices": ("petitions", cell(5, "channel", "fax"),
                             [(7, "channel", "not one of visit, letter, phone, online:", "fax")]),
    "bad flag": ("petitions", cell(1, "satisfied", "maybe"), [(3, "satisfied", "not a yes/no value", "maybe")]),
    "unknown area_id": ("petitions", cell(6, "area_id", "NOPE"),
                        [(8, "area_id", "unknown area_id (load areas first)", "NOPE")]),
    "unknown mediation area": ("mediation", cell(0, "area_id", "NOPE"),
                               [(2, "area_id", "unknown area_id (load areas first)", "NOPE")]),
    "unknown population area": ("population", cell(0, "area_id", "NOPE"),
                                [(2, "area_id", "unknown area_id (load areas first)", "NOPE")]),
    "unknown adjacency ids": ("adjacency", append(area_id="NOPE1", neighbor_id="NOPE2"),
                              [(12, "area_id", "unknown area_id (load areas first)", "NOPE1"),
                               (12, "neighbor_id", "unknown neighbor_id (load areas first)", "NOPE2")]),
    "unknown policy area": ("policies", cell(0, "areas", "C101；NOPE, C102"),
                            [(2, "areas", "unknown area_id", "NOPE")]),
    "policy without areas": ("policies", cell(1, "areas", " ;；"), [(3, "areas", "no area ids in the list", ";；")]),
    "unknown parent_id": ("areas", append(area_id="C999", name="新社区", parent_id="NOPE", level="community"),
                          [(11, "parent_id", "unknown parent_id", "NOPE")]),
    "duplicate key": ("petitions", lambda f: pd.concat([f, f.iloc[[3]]], ignore_index=True),
                      [(14, "petition_id", "duplicate key (first at row 5)", "P00003/2023-01-11")]),
    "duplicate population key across date formats": (
        "population", cell(6, "period_start", "2022/1/1"),
        [(8, "area_id", "duplicate key (first at row 2)", "C101/2022-01-01")]),
    "date order violated": ("petitions", cell(1, "closed_on", "2022-12-31"),
                            [(3, "closed_on", "date order violated: closed_on is before received_on",
                              "2022-12-31 < received_on 2023-01-05")]),
    "policy effective before announced": ("policies", cell(1, "effective_on", "2023年2月1日"),
                                          [(3, "effective_on", "date order violated: effective_on is before announced_on",
                                            "2023-02-01 < announced_on 2023-03-01")]),
    "empty required value": ("petitions", cell(7, "category", None), [(9, "category", "empty required value", None)]),
    "empty required date": ("mediation", cell(2, "opened_on", "  "), [(4, "opened_on", "empty required value", None)]),
    "several errors at once": (
        "petitions", lambda f: cell(9, "people", "-1")(cell(2, "received_on", "2023-02-30")(f)),
        [(4, "received_on", "unparseable date", "2023-02-30"), (11, "people", "negative count", "-1")]),
}


def test_bad_input_is_named_and_nothing_is_written(engine, load, areas) -> None:
    """Every case against one database (nothing is written, so they cannot disturb each other);
    a mismatch names its case."""
    mismatches = {}
    for case, (kind, mutate, expected) in CASES.items():
        before = stored_counts(engine)
        try:
            load(kind, mutate(frames_by_kind()[kind]))
        except BatchRejected as exc:
            got = [(e.row, e.column, e.reason, e.value) for e in exc.errors]
            if got != expected or exc.kind != kind:
                mismatches[case] = got
        else:
            mismatches[case] = "accepted"
        if stored_counts(engine) != before:
            mismatches[case] = "wrote rows"
    assert mismatches == {}


def test_message_names_row_column_reason_and_value(engine, load, areas) -> None:
    frame = cell(15, "received_on", "2023-13-45")(frames_by_kind()["petitions"].reindex(range(16)).ffill())
    frame["petition_id"] = [f"Q{i}" for i in range(16)]
    with pytest.raises(BatchRejected) as caught:
        load("petitions", frame)
    message = str(caught.value)
    assert "row 17, column received_on: unparseable date '2023-13-45'" in message
    assert "the header is row 1" in message and "nothing was written" in message


def test_every_bad_row_of_a_large_batch_is_named(engine, load, areas) -> None:
    frame = pd.concat([frames_by_kind()["petitions"]] * 100, ignore_index=True)
    frame["petition_id"] = [f"P{i}" for i in range(len(frame))]
    bad = list(range(0, len(frame), 7))
    frame.loc[bad, "channel"] = "pigeon"
    with pytest.raises(BatchRejected) as caught:
        load("petitions", frame)
    assert [e.row for e in caught.value.errors] == [row + 2 for row in bad]


def test_a_header_without_records_is_refused_by_name(engine, load, areas, tmp_path) -> None:
    path = tmp_path / "empty.csv"
    path.write_text("petition_id,area_id,received_on,category\n", encoding="utf-8")
    with pytest.raises(BatchRejected, match="no records"):
        load("petitions", path)
