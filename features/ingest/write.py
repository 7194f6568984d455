"""The all-or-nothing write of a planned batch, and its ``load_batches`` row.

Everything — the batch row, the records, a policy's areas — goes through
the one connection of the caller's transaction, so any failure (a bad
value the database refuses, a lost connection, a bug) rolls back every
row of the batch. Rows go in chunks: executemany on SQLite, COPY on
PostgreSQL (both inside the same transaction).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from features.storage.tables import load_batches, policy_areas

CHUNK_ROWS = 10_000
SOURCE_LENGTH = 512


def to_records(frame: pd.DataFrame, *, columns: Sequence[str]) -> list[dict[str, Any]]:
    """Plain Python values (``date``, ``int``, ``None``) that every DB driver accepts."""
    plain = {}
    for column in columns:
        series = frame[column]
        if pd.api.types.is_datetime64_any_dtype(series):
            values = series.dt.date.astype(object).where(series.notna(), None).tolist()
        else:
            values = series.astype(object).where(series.notna(), None).tolist()
        plain[column] = values
    return [dict(zip(plain, row, strict=True)) for row in zip(*plain.values(), strict=True)] if plain else []


def chunks(records: list[dict[str, Any]], *, size: int) -> Iterator[list[dict[str, Any]]]:
    for start in range(0, len(records), size):
        yield records[start : start + size]


def insert_rows(connection: Connection, *, table: sa.Table, records: list[dict[str, Any]]) -> None:
    """Insert in chunks, inside the caller's transaction (COPY on PostgreSQL, executemany elsewhere)."""
    for chunk in chunks(records, size=CHUNK_ROWS):
        if connection.dialect.name == "postgresql":
            copy_rows(connection, table=table, records=chunk)
        else:
            connection.execute(table.insert(), chunk)


def copy_rows(connection: Connection, *, table: sa.Table, records: list[dict[str, Any]]) -> None:
    """PostgreSQL's COPY through the transaction's own DBAPI connection: several times faster
    than INSERT for large batches, and rolled back with everything else."""
    if not records:
        return
    names = list(records[0])
    preparer = connection.dialect.identifier_preparer
    statement = (
        f"COPY {preparer.format_table(table)} ({', '.join(preparer.quote(name) for name in names)}) FROM STDIN"
    )
    cursor = connection.connection.driver_connection.cursor()
    try:
        with cursor.copy(statement) as copy:
            for record in records:
                copy.write_row(tuple(record[name] for name in names))
    finally:
        cursor.close()


def insert_batch_row(
    connection: Connection, *, kind: str, source: str, sha256: str, rows_in: int,
    added: int, corrected: int, unchanged: int, loaded_by: str,
) -> int:
    """The trail of a load: what, from where, how many, when, by whom."""
    result = connection.execute(
        load_batches.insert().values(
            kind=kind, source=source[-SOURCE_LENGTH:], sha256=sha256, rows_in=rows_in, rows_added=added,
            rows_corrected=corrected, rows_unchanged=unchanged, loaded_at=dt.datetime.now(dt.UTC),
            loaded_by=loaded_by[:128],
        )
    )
    return int(result.inserted_primary_key[0])


def write_records(
    connection: Connection, *, table: sa.Table, rows: pd.DataFrame, batch_id: int,
    pairs: pd.DataFrame | None = None,
) -> None:
    """Insert the new rows of a batch (and, for policies, their affected areas)."""
    columns = [column.name for column in table.columns if column.name in rows.columns]
    records = to_records(rows.assign(batch_id=batch_id), columns=[*columns, "batch_id"])
    insert_rows(connection, table=table, records=records)
    if pairs is not None and not rows.empty:
        mine = pairs[pairs["position"].isin(rows["position"])]
        owners = rows.set_index("position")["policy_id"]
        links = pd.DataFrame({"policy_id": mine["position"].map(owners).to_numpy(), "area_id": mine["area_id"].to_numpy()})
        insert_rows(connection, table=policy_areas, records=to_records(links, columns=["policy_id", "area_id"]))
