"""Bulk reads of what is stored already: never one query per record.

Ids are looked up in chunks: on PostgreSQL as one array parameter per chunk
(``= ANY(:ids)``, cheap to bind), elsewhere as ``IN`` lists well under
SQLite's bind-parameter limit. A batch of a million petitions costs tens of
queries, not a million.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Connection

from features.contracts import Contract
from features.storage.tables import areas, load_batches
from features.ingest.read import TEXT

IN_CHUNK = 5_000
ARRAY_CHUNK = 100_000


def prior_batch(connection: Connection, *, kind: str, sha256: str) -> int | None:
    """The batch id under which these exact bytes were loaded for ``kind``, if any."""
    query = (
        sa.select(load_batches.c.batch_id)
        .where(load_batches.c.kind == kind, load_batches.c.sha256 == sha256)
        .order_by(load_batches.c.batch_id)
        .limit(1)
    )
    return connection.execute(query).scalar_one_or_none()


def stored_area_ids(connection: Connection) -> set[str]:
    """Every stored area id: areas number at most hundreds of thousands, so one read."""
    return set(connection.execute(sa.select(areas.c.area_id)).scalars())


def stored_records(
    connection: Connection, *, contract: Contract, table: sa.Table, ids: Sequence[str]
) -> pd.DataFrame:
    """Key columns (+ version and recorded_on for versioned kinds) and content hash of stored rows
    whose first key column is in ``ids``; dates come back as ``datetime64``."""
    names = list(contract.key) + (["version", "recorded_on"] if contract.versioned else []) + ["content_hash"]
    columns = [table.c[name] for name in names]
    first = table.c[contract.key[0]]
    unique = sorted(set(ids))
    size, matches = _id_filter(connection, first)
    chunks = [
        pd.DataFrame(
            connection.execute(sa.select(*columns).where(matches(unique[start : start + size]))).all(),
            columns=names,
        )
        for start in range(0, len(unique), size)
    ]
    stored = pd.concat(chunks, ignore_index=True) if chunks else pd.DataFrame(columns=names)
    for name in names:
        if name in contract.dates or name == "recorded_on":
            stored[name] = pd.to_datetime(stored[name]).astype("datetime64[ns]")
        elif name == "version":
            stored[name] = stored[name].astype("int64")
        else:
            stored[name] = stored[name].astype(TEXT)
    return stored


def _id_filter(
    connection: Connection, column: sa.Column
) -> tuple[int, Callable[[list[str]], sa.ColumnElement[bool]]]:
    """Chunk size and "column is one of these ids" for this backend."""
    if connection.dialect.name == "postgresql":
        def any_of(chunk: list[str]) -> sa.ColumnElement[bool]:
            return column == sa.any_(sa.literal(chunk, postgresql.ARRAY(sa.String)))

        return ARRAY_CHUNK, any_of
    return IN_CHUNK, column.in_
