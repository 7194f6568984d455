"""Point-in-time record snapshots: what the database knew, version by version.

Every version of a petition or mediation case comes back with the date it
was recorded and the date a later version superseded it (``superseded_on``,
computed in SQL with ``LEAD`` over the record's versions). A version is the
one known at period t exactly when ``recorded_on < start(t) <= superseded_on``,
so one load serves every period of the panel (docs/adr/0005).
Only versions recorded before the build's ``as_of`` are read: the build sees
the database as it was on that day.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement
from pandas.api.types import union_categoricals
from sqlalchemy.engine import Engine

from features.pipeline.columnar import read_arrow
from features.storage.tables import adjacency, areas, mediation_cases, petitions, policies, policy_areas, population

_ID = {"petitions": (petitions, "petition_id", "received_on"), "mediation": (mediation_cases, "case_id", "opened_on")}
_FIELDS = {
    "petitions": ("category", "people", "level_reached", "is_repeat", "closed_on", "satisfied"),
    "mediation": ("dispute_type", "closed_on", "outcome", "parties", "amount", "origin"),
}
_DATES = ("received_on", "opened_on", "recorded_on", "superseded_on", "closed_on")
_FLAGS = ("is_repeat", "satisfied")


class epoch_days(FunctionElement):  # noqa: N801 - SQL function naming
    """Days since 1970-01-01 as an integer: one Python int per value instead of a date or a string."""

    type = sa.Integer()
    inherit_cache = True
    name = "epoch_days"


@compiles(epoch_days)
def _epoch_days_default(element: epoch_days, compiler: SQLCompiler, **kw: object) -> str:
    return f"({compiler.process(element.clauses, **kw)} - DATE '1970-01-01')"


@compiles(epoch_days, "sqlite")
def _epoch_days_sqlite(element: epoch_days, compiler: SQLCompiler, **kw: object) -> str:
    return f"CAST(julianday({compiler.process(element.clauses, **kw)}) - 2440587.5 AS INTEGER)"


def _column(table: sa.Table, name: str) -> sa.ColumnElement:
    column = table.c[name]
    if isinstance(column.type, sa.Date):
        return epoch_days(column).label(name)
    if isinstance(column.type, sa.Boolean):
        return sa.cast(column, sa.Integer).label(name)
    return column


_NUMBERS = ("people", "parties", "amount", "residents", "registered", "migrants", "low_income_households", "unemployed",
            "elderly_share", "rental_share", "households_affected", "compensation_ratio", "batch_id", "next_batch", "version")
_CHUNK = 250_000


def _dates(values: pd.Series) -> pd.Series:
    """Epoch days (or ISO text, from group-bys) to ``datetime64[ns]``; NULL to NaT."""
    if values.dtype == object and values.map(lambda v: isinstance(v, str)).any():
        return pd.to_datetime(values, format="%Y-%m-%d")
    days = pd.to_numeric(values, errors="coerce").to_numpy(dtype=np.float64)
    missing = np.isnan(days)
    out = np.where(missing, 0, days).astype(np.int64).astype("datetime64[D]").astype("datetime64[ns]")
    out[missing] = np.datetime64("NaT")
    return pd.Series(out, index=values.index)


def _compact(frame: pd.DataFrame) -> pd.DataFrame:
    """Dense dtypes for one chunk: dates parsed, numbers as floats, strings as categoricals."""
    for name in frame.columns:
        if _is_date(name):
            frame[name] = _dates(frame[name])
        elif name in _FLAGS or name == "hearing_held":
            frame[name] = pd.to_numeric(frame[name], errors="coerce").astype(np.float64)  # 1/0/NaN
        elif name in _NUMBERS:
            frame[name] = pd.to_numeric(frame[name], errors="coerce").astype(np.float64)
        elif frame[name].dtype == object and name != "record_id":
            frame[name] = frame[name].astype("category")
    return frame


def _is_date(name: str) -> bool:
    return name in _DATES or name.endswith("_on") or name == "period_start"


def _arrow_column(name: str, column: pa.ChunkedArray) -> pd.Series | np.ndarray | pd.Categorical:
    """One Arrow column as ``_compact`` would leave the same values read through the cursor."""
    kind = column.type
    text = pa.types.is_string(kind) or pa.types.is_large_string(kind)
    if _is_date(name):
        if text:  # ISO text from group-bys (few rows)
            return _dates(pd.Series(column.to_pandas(), dtype=object))
        if len(column) and (pa.types.is_integer(kind) or pa.types.is_date32(kind)):  # epoch days: Arrow's casts, NULL to NaT
            days = column if pa.types.is_date32(kind) else pc.cast(pc.cast(column, pa.int32()), pa.date32())
            return pc.cast(days, pa.timestamp("ns")).to_numpy(zero_copy_only=False)
        days = pc.cast(column, pa.float64()).to_numpy(zero_copy_only=False)
        missing = np.isnan(days)
        out = np.where(missing, 0, days).astype(np.int64).astype("datetime64[D]").astype("datetime64[ns]")
        out[missing] = np.datetime64("NaT")
        return out
    if name in _FLAGS or name == "hearing_held" or name in _NUMBERS:
        if text or pa.types.is_decimal(kind):
            return pd.to_numeric(pd.Series(column.to_pandas(), dtype=object), errors="coerce").astype(np.float64).to_numpy()
        return pc.cast(column, pa.float64()).to_numpy(zero_copy_only=False)
    dictionary = pa.types.is_dictionary(kind)  # text the record cache read dictionary-encoded
    if name == "record_id" or not (text or dictionary or column.null_count == len(column)):
        values = column.to_pandas()
        if pa.types.is_integer(kind) and column.null_count == 0:
            values = values.astype(np.int64)
        return values.to_numpy()
    if text:
        encoded = column.combine_chunks().dictionary_encode()
    elif dictionary:
        encoded = column.unify_dictionaries().combine_chunks() if column.num_chunks else pa.array([], type=kind)
    else:
        encoded = None
    if encoded is None or len(encoded.dictionary) == 0:  # no value at all: an empty category, as from the cursor
        return pd.Categorical([None] * len(column))
    raw = pc.fill_null(encoded.indices, -1).to_numpy(zero_copy_only=False).astype(np.int64)
    used = np.bincount(raw[raw >= 0], minlength=len(encoded.dictionary)) > 0  # a cached dictionary may hold more
    categories = encoded.dictionary.to_numpy(zero_copy_only=False).astype(object)
    order = np.flatnonzero(used)[np.argsort(categories[used], kind="stable")]  # astype("category") sorts its categories
    if not len(order):
        return pd.Categorical([None] * len(column))
    rank = np.full(len(categories), -1, dtype=np.int64)
    rank[order] = np.arange(len(order))
    codes = np.where(raw < 0, -1, rank[np.maximum(raw, 0)])
    return pd.Categorical.from_codes(codes, categories=pd.Index(categories[order], dtype=object))


def _codes(column: pa.ChunkedArray) -> np.ndarray:
    """``pd.factorize`` codes (order of first appearance, -1 for NULL) without a Python object per value."""
    indices = column.combine_chunks().dictionary_encode().indices
    return pc.fill_null(indices, -1).to_numpy(zero_copy_only=False).astype(np.int64)


def _from_arrow(table: pa.Table, *, codes: str | None) -> pd.DataFrame:
    names = table.column_names
    # copy=False: the columns are fresh arrays, and pandas would otherwise stack same-typed ones into
    # 2-D blocks (a copy of the whole frame, a third of the time of turning millions of versions into frames).
    return pd.DataFrame({name: _codes(table.column(i)) if name == codes else _arrow_column(name, table.column(i))
                         for i, name in enumerate(names)}, columns=names, copy=False)


def _frame(connection: sa.Connection, statement: sa.Select, *, codes: str | None = None) -> pd.DataFrame:
    """Read columnar through ADBC where it can; otherwise in chunks through the DB-API cursor.

    The column named ``codes`` comes back as its ``pd.factorize`` codes instead of its values.
    """
    # Only dates and ids are bound, rendered as literals.
    sql = str(statement.compile(dialect=connection.dialect, compile_kwargs={"literal_binds": True}))
    table = read_arrow(connection, sql)
    if table is not None:
        return _from_arrow(table, codes=codes)
    frame = _cursor_frame(connection, sql)
    if codes is not None:
        frame[codes] = pd.factorize(frame[codes])[0].astype(np.int64)
    return frame


def cursor_chunks(connection: sa.Connection, sql: str) -> tuple[list[str], Iterator[list[tuple]]]:
    """The column names and the rows in chunks, read through the DB-API cursor directly.

    SQLAlchemy's per-row processing costs more than SQLite's own fetching at
    millions of rows; chunks keep them from sitting in memory as Python
    objects all at once.
    """
    cursor = connection.connection.cursor()
    cursor.execute(sql)
    names = [d[0] for d in cursor.description]

    def rows() -> Iterator[list[tuple]]:
        try:
            while chunk := cursor.fetchmany(_CHUNK):
                yield chunk
        finally:
            cursor.close()

    return names, rows()


def _cursor_frame(connection: sa.Connection, sql: str) -> pd.DataFrame:
    columns, rows = cursor_chunks(connection, sql)
    chunks = [_compact(pd.DataFrame(chunk, columns=columns)) for chunk in rows]
    if not chunks:
        return _compact(pd.DataFrame({name: pd.Series(dtype=object) for name in columns}))
    if len(chunks) == 1:
        return chunks[0]
    for name in columns:
        if isinstance(chunks[0][name].dtype, pd.CategoricalDtype):
            union = union_categoricals([chunk[name] for chunk in chunks]).categories
            for chunk in chunks:
                chunk[name] = chunk[name].cat.set_categories(union)
    return pd.concat(chunks, ignore_index=True)


def day(column: sa.ColumnElement) -> sa.ColumnElement:
    """A date column as ISO text. Comparing and grouping on it keeps SQLite from walking a date
    index and fetching every row by rowid (14x slower than a scan on the benchmark's 3M rows)."""
    return sa.cast(column, sa.String(10))


def before(column: sa.ColumnElement, when: dt.date) -> sa.ColumnElement:
    """``column < when`` for a whole-table scan (ISO dates sort as text)."""
    return day(column) < when.isoformat()


def load_versions(engine: Engine, *, kind: str, as_of: dt.date, event_from: dt.date | None = None,
                  changed_since: dt.date | None = None) -> pd.DataFrame:
    """Every version of ``kind`` recorded before ``as_of``, with ``superseded_on`` and ``next_batch``.

    With ``event_from``/``changed_since`` (incremental builds) only records that
    have a version dated on/after ``event_from`` or recorded on/after
    ``changed_since`` are read, with all their versions.
    """
    table, key, event = _ID[kind]
    columns = [table.c[key].label("record_id"), table.c.version, table.c.area_id, _column(table, event),
               _column(table, "recorded_on"), *[_column(table, name) for name in _FIELDS[kind]], table.c.batch_id]
    statement = sa.select(*columns).where(before(table.c.recorded_on, as_of))
    if event_from is not None or changed_since is not None:
        conditions = []
        if event_from is not None:  # closing dates too: a failure counts when the case closes
            conditions += [table.c[event] >= event_from, table.c.closed_on >= event_from]
        if changed_since is not None:
            conditions.append(table.c.recorded_on >= changed_since)
        wanted = sa.select(table.c[key]).where(sa.or_(*conditions))
        statement = statement.where(table.c[key].in_(wanted))
    with engine.connect() as connection:
        frame = _frame(connection, statement, codes="record_id")
    return _supersede(frame)


def _supersede(frame: pd.DataFrame) -> pd.DataFrame:
    """Attach the next version's ``recorded_on`` and batch to every version (a sort, not a SQL window).

    Only versions known at the build's ``as_of`` were read, so a later version never supersedes.
    Only records with a version after the first (a few %) are sorted: a record read with several versions
    has one, and one read with that version alone has nothing to supersede. A mark per record does it,
    where counting every record's rows cost an int64 per record id (the cache's ids reach 3 M).
    """
    ids = frame.pop("record_id").to_numpy()  # factorized by _frame, or the record cache's ids
    version = frame.pop("version").to_numpy()
    order = np.arange(len(ids))
    if len(ids) and ids.min() >= 0:
        several = np.zeros(int(ids.max()) + 1, dtype=bool)
        several[ids[version > 1]] = True
        order = np.flatnonzero(several[ids])
    order = order[np.lexsort((version[order], ids[order]))]
    same = ids[order[1:]] == ids[order[:-1]]
    this, following = order[:-1][same], order[1:][same]
    superseded = np.full(len(frame), np.datetime64("NaT"), dtype="datetime64[ns]")
    superseded[this] = frame["recorded_on"].to_numpy()[following]
    next_batch = np.full(len(frame), np.nan)
    next_batch[this] = frame["batch_id"].to_numpy()[following]
    frame["superseded_on"] = superseded  # in place, like the pops above: ``assign`` would copy every column
    frame["next_batch"] = next_batch
    return frame


def knowledge_span(engine: Engine, *, as_of: dt.date | None) -> tuple[dt.date | None, dt.date | None]:
    """(first event date, last recorded date) over both versioned kinds."""
    firsts, lasts = [], []
    with engine.connect() as connection:
        for kind, (table, _key, event) in _ID.items():
            where = before(table.c.recorded_on, as_of) if as_of is not None else sa.true()
            row = connection.execute(sa.select(sa.func.min(table.c[event]), sa.func.max(table.c.recorded_on)).where(where)).one()
            firsts.append(row[0])
            lasts.append(row[1])
    first = min((pd.Timestamp(d).date() for d in firsts if d is not None), default=None)
    last = max((pd.Timestamp(d).date() for d in lasts if d is not None), default=None)
    return first, last


def available_fields(engine: Engine, *, as_of: dt.date) -> set[str]:
    """``table.field`` names holding at least one value (the features that may exist)."""
    out: set[str] = set()
    with engine.connect() as connection:
        for kind, (table, _key, event) in _ID.items():
            names = ["area_id", event, *_FIELDS[kind]]
            row = connection.execute(sa.select(*[sa.func.count(table.c[n]) for n in names]).where(before(table.c.recorded_on, as_of))).one()
            out |= {f"{kind}.{n}" for n, c in zip(names, row) if c}
    return out | context_fields(engine, as_of=as_of)


def context_fields(engine: Engine, *, as_of: dt.date) -> set[str]:
    """The fields of ``available_fields`` outside the versioned records: population, policies, adjacency.

    ``EXISTS`` rather than ``count``: the scan stops at the first value, where
    counting read every population row for every column (0.2 s of each
    incremental build on the benchmark city, against ~0.01 s).
    """
    pop_names = [c.name for c in population.c if c.name not in ("content_hash", "batch_id")]
    pol_names = ["type", "announced_on", "effective_on", "households_affected", "hearing_held", "compensation_ratio"]
    asked = {f"population.{n}": sa.exists().where(population.c[n].is_not(None)) for n in pop_names}
    asked |= {f"policies.{n}": sa.exists().where(policies.c[n].is_not(None), policies.c.announced_on < as_of) for n in pol_names}
    asked |= {"policy_areas.area_id": sa.exists().select_from(policy_areas), "adjacency.neighbor_id": sa.exists().select_from(adjacency)}
    with engine.connect() as connection:
        row = connection.execute(sa.select(*asked.values())).one()
    return {name for name, present in zip(asked, row) if present}


def load_areas(engine: Engine) -> tuple[pd.DataFrame, pd.DataFrame]:
    with engine.connect() as connection:
        area_rows = _frame(connection, sa.select(areas.c.area_id, areas.c.parent_id, areas.c.level))
        edges = _frame(connection, sa.select(adjacency.c.area_id, adjacency.c.neighbor_id))
    area_rows, edges = area_rows.astype(object), edges.astype(object)  # small tables: plain strings
    area_rows["parent_id"] = area_rows["parent_id"].where(area_rows["parent_id"].notna() & (area_rows["parent_id"] != ""), None)
    return area_rows, edges


def load_population(engine: Engine, *, since: dt.date | None, as_of: dt.date) -> pd.DataFrame:
    cols = [_column(population, c.name) for c in population.c if c.name not in ("content_hash", "batch_id")]
    statement = sa.select(*cols).where(population.c.period_start < as_of)
    if since is not None:
        statement = statement.where(population.c.period_start >= since)
    with engine.connect() as connection:
        return _frame(connection, statement)


def load_policies(engine: Engine, *, as_of: dt.date) -> pd.DataFrame:
    """One row per (policy, listed area) announced before ``as_of``."""
    cols = [_column(policies, n) for n in ("policy_id", "type", "announced_on", "effective_on", "households_affected",
                                           "hearing_held", "compensation_ratio")]
    statement = sa.select(*cols, policy_areas.c.area_id).join(policy_areas, policy_areas.c.policy_id == policies.c.policy_id)
    with engine.connect() as connection:
        frame = _frame(connection, statement.where(policies.c.announced_on < as_of))
    for name in ("policy_id", "type", "area_id"):
        frame[name] = frame[name].astype(object)
    return frame


def first_events(engine: Engine, *, as_of: dt.date) -> pd.DataFrame:
    """Earliest event date per recorded_on date: what history was known at each moment."""
    pieces = []
    with engine.connect() as connection:
        for table, _key, event in _ID.values():
            recorded = day(table.c.recorded_on)
            statement = (sa.select(recorded.label("recorded_on"), sa.cast(sa.func.min(table.c[event]), sa.String(10)).label("first_on"))
                         .where(before(table.c.recorded_on, as_of)).group_by(recorded))
            pieces.append(_frame(connection, statement))
    return pd.concat(pieces, ignore_index=True)


def record_areas(engine: Engine, *, as_of: dt.date) -> list[str]:
    """Every area that carries a petition or mediation case recorded before ``as_of``."""
    out: set[str] = set()
    with engine.connect() as connection:
        for table, _key, _event in _ID.values():
            out |= set(connection.execute(sa.select(table.c.area_id).where(before(table.c.recorded_on, as_of)).distinct()).scalars())
    return sorted(out)
