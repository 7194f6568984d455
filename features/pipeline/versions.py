"""Record versions as Arrow tables of one fixed schema, read from the database whole or by batch.

The record cache (``record_cache``) stores these tables and the in-memory
derivations (``known``) read them, so every reader must hand back exactly
the same types whatever the backend and driver gave: SQLite's ADBC driver
infers a column's type from its values (an all-NULL column arrives as
INT64), PostgreSQL's gives proper types, and the DB-API cursor gives Python
objects. ``conform`` casts each column to the one schema below.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from features.pipeline.columnar import read_arrow
from features.pipeline.snapshot import _FIELDS, _FLAGS, _ID, _NUMBERS, _column, _is_date, cursor_chunks
from features.storage.tables import load_batches, record_changes

KINDS = tuple(_ID)
FIELDS = _FIELDS  # the optional fields read per kind
DAYS = pa.int32()  # dates as days since 1970-01-01
EPOCH = dt.date(1970, 1, 1)


def epoch_day(when: dt.date) -> int:
    """``when`` as the cached versions and population hold dates: days since 1970-01-01."""
    return (when - EPOCH).days


def from_epoch_day(days: int) -> dt.date:
    return EPOCH + dt.timedelta(days=int(days))


def event_column(kind: str) -> str:
    return _ID[kind][2]


def _type(name: str) -> pa.DataType:
    if name == "record_id":
        return pa.string()
    if name == "rid":
        return pa.int64()
    if name in ("version", "batch_id"):
        return pa.int32()
    if _is_date(name):
        return DAYS
    if name in _FLAGS:
        return pa.int8()  # 1/0/NULL: an eighth of a float, and the cached files are hashed on every read
    if name in _NUMBERS:
        return pa.float64()
    return pa.string()


def columns(kind: str) -> list[str]:
    """The cached columns of ``kind``, in the order ``snapshot.load_versions`` selects them."""
    return ["record_id", "version", "area_id", event_column(kind), "recorded_on", *_FIELDS[kind], "batch_id"]


def schema(kind: str, *, with_rid: bool = True) -> pa.Schema:
    names = columns(kind) + (["rid"] if with_rid else [])
    return pa.schema([pa.field(name, _type(name)) for name in names])


def text_columns(kind: str) -> list[str]:
    """The text columns the record cache reads dictionary-encoded (few distinct values; not the ids)."""
    return [f.name for f in schema(kind) if f.type == pa.string() and f.name != "record_id"]


def as_dictionaries(table: pa.Table, kind: str) -> pa.Table:
    """``table`` with its text columns dictionary-encoded, as the cache reads them."""
    for name in text_columns(kind):
        i = table.schema.get_field_index(name)
        if pa.types.is_dictionary(table.schema.field(i).type):
            continue
        table = table.set_column(i, pa.field(name, pa.dictionary(pa.int32(), pa.string())), pc.dictionary_encode(table.column(i)))
    return table


def plain(schema_: pa.Schema) -> pa.Schema:
    """``schema_`` with dictionary columns as their value type (to compare a cached segment's schema)."""
    return pa.schema([pa.field(f.name, f.type.value_type if pa.types.is_dictionary(f.type) else f.type) for f in schema_])


def _cast(column: pa.ChunkedArray, target: pa.DataType) -> pa.ChunkedArray:
    kind = column.type
    if pa.types.is_dictionary(kind):
        column, kind = pc.cast(column, kind.value_type), kind.value_type
    if pa.types.is_timestamp(kind) or pa.types.is_date64(kind):
        column, kind = pc.cast(pc.cast(column, pa.date32()), pa.int32()), pa.int32()
    elif pa.types.is_date32(kind):
        column, kind = pc.cast(column, pa.int32()), pa.int32()
    text = pa.types.is_string(kind) or pa.types.is_large_string(kind)
    if text and target != pa.string():  # a number stored as text (SQLite is dynamically typed)
        numbers = pd.to_numeric(pd.Series(column.to_pandas(), dtype=object), errors="coerce")
        return pa.chunked_array([pa.array(numbers.to_numpy(dtype=np.float64), from_pandas=True)]).cast(target)
    if pa.types.is_floating(kind) and pa.types.is_integer(target):
        return pc.cast(column, target, safe=False)
    return pc.cast(column, target)


def conform(table: pa.Table, kind: str) -> pa.Table:
    """``table`` (as some reader returned it) in the schema of ``kind``, without the ``rid``."""
    return conform_to(table, schema(kind, with_rid=False))


def conform_to(table: pa.Table, target: pa.Schema) -> pa.Table:
    """``table``'s columns named in ``target``, cast to its types whatever the backend and driver gave."""
    arrays = [_cast(table.column(field.name), field.type) for field in target]
    return pa.Table.from_arrays(arrays, schema=target)


def _cursor_table(connection: sa.Connection, sql: str) -> pa.Table:
    """The DB-API cursor's rows as Arrow, in chunks (the fallback when ADBC cannot serve)."""
    names, rows = cursor_chunks(connection, sql)
    pieces = []
    for chunk in rows:
        frame = pd.DataFrame(chunk, columns=names)
        pieces.append(pa.table({name: pa.array(frame[name].tolist(), from_pandas=True) for name in names}))
    if not pieces:
        return pa.table({name: pa.array([], type=pa.null()) for name in names})
    return pa.concat_tables(pieces, promote_options="permissive")


def read(engine: Engine, *, kind: str, after_batch: int | None = None) -> pa.Table:
    """Every version of ``kind`` (or only those of batches after ``after_batch``), conformed.

    No ``recorded_on`` filter: the cache mirrors the table, each build picks
    what was known on its ``as_of`` in memory.
    """
    table, key, event = _ID[kind]
    cols = [table.c[key].label("record_id"), table.c.version, table.c.area_id, _column(table, event),
            _column(table, "recorded_on"), *[_column(table, name) for name in _FIELDS[kind]], table.c.batch_id]
    statement = sa.select(*cols)
    if after_batch is not None:  # served by the batch_id index (migration 0007)
        statement = statement.where(table.c.batch_id > after_batch)
    return conform(fetch(engine, statement), kind)


def fetch(engine: Engine, statement: sa.Select) -> pa.Table:
    """``statement``'s rows as Arrow, as the driver typed them: through ADBC, or else the DB-API cursor."""
    with engine.connect() as connection:
        sql = str(statement.compile(dialect=connection.dialect, compile_kwargs={"literal_binds": True}))
        raw = read_arrow(connection, sql)
        return raw if raw is not None else _cursor_table(connection, sql)


LATEST_LOOKUP = 10_000  # record ids ``latest_recorded`` asks about at most: beyond, the caller scans everything


def latest_recorded(engine: Engine, *, kind: str, ids: list[str], batch: int) -> int | None:
    """The earliest, over ``ids``, of each record's latest ``recorded_on`` in batches up to ``batch`` (epoch days);
    None when no such version exists.

    Every one of those records has a cached version recorded on or after it,
    so its cached row's reach is too (``record_cache._delta_rids`` scans only
    rows from there on). One lookup per id through the primary key.
    """
    table, key, _event = _ID[kind]
    latest = (sa.select(sa.func.max(table.c.recorded_on).label("latest"))
              .where(table.c[key].in_(ids), table.c.batch_id <= batch).group_by(table.c[key]).subquery())
    with engine.connect() as connection:
        earliest = connection.execute(sa.select(sa.func.min(latest.c.latest))).scalar()
    return None if earliest is None else epoch_day(pd.Timestamp(earliest).date())


@dataclass(frozen=True)
class Standing:
    """What a record cache is checked against, asked before any version is read: each kind's change counter
    (``record_changes``, moved by triggers on every UPDATE or DELETE of its table, migration 0009) and every load
    batch id. Both are a row or a few per load, where counting a table's rows read all of them."""

    changes: dict[str, int]
    batches: np.ndarray  # sorted batch ids

    def batches_upto(self, batch: int) -> int:
        """How many load batches had ids up to ``batch``."""
        return int(np.searchsorted(self.batches, batch, side="right"))


def standing(engine: Engine) -> Standing:
    """The database's ``Standing`` now (one read transaction)."""
    with engine.connect() as connection:
        counted = dict(connection.execute(sa.select(record_changes.c.table_name, record_changes.c.changes)).all())
        batches = connection.execute(sa.select(load_batches.c.batch_id).order_by(load_batches.c.batch_id)).scalars().all()
    changes = {kind: int(counted.get(table.name, -1)) for kind, (table, _key, _event) in _ID.items()}
    return Standing(changes, np.asarray(batches, dtype=np.int64))
