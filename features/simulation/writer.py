"""Streaming file sinks: rows arrive week by week, files are written in chunks.

One ``Sink`` per output file buffers Arrow tables until ``chunk_rows`` rows
and then writes them (a Parquet row group, or CSV lines), so memory stays
bounded whatever the size of the city. Clean CSV is written by Arrow: UTF-8,
a header, ISO dates, ``true``/``false``, empty fields for nulls (string values
are quoted). Messy CSV goes through messiness.py and is GB18030.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from features.simulation.messiness import Mess

Format = Literal["csv", "parquet"]


class Sink:
    """Append-only writer of one output file."""

    def __init__(self, path: Path, fmt: Format, chunk_rows: int, mess: Mess | None = None) -> None:
        self.path, self.fmt, self.chunk_rows, self.mess = path, fmt, chunk_rows, mess
        self.rows = 0
        self._buffer: list[pa.Table] = []
        self._buffered = 0
        self._writer: pq.ParquetWriter | pacsv.CSVWriter | None = None
        self._schema: pa.Schema | None = None
        self._header_written = False

    def write(self, table: pa.Table) -> None:
        if self._schema is None:
            self._schema = table.schema
        elif table.schema != self._schema:
            table = table.cast(self._schema)
        self._buffer.append(table)
        self._buffered += table.num_rows
        if self._buffered >= self.chunk_rows:
            self.flush()

    def flush(self) -> None:
        if self._schema is None:
            return
        table = pa.concat_tables(self._buffer) if self._buffer else self._schema.empty_table()
        self._buffer, self._buffered = [], 0
        if table.num_rows == 0 and self._writer is not None:
            return
        if self.mess is not None:
            frame = self.mess.dirty(self.path.stem, table)
            frame.to_csv(self.path, mode="a" if self._header_written else "w", header=not self._header_written,
                         index=False, encoding=self.mess.params.encoding, lineterminator="\n")
            self._header_written = True
            self.rows += len(frame)
            return
        if self._writer is None:
            self._writer = (pq.ParquetWriter(self.path, self._schema, compression="zstd") if self.fmt == "parquet"
                            else pacsv.CSVWriter(self.path, self._schema))
        if table.num_rows:
            self._writer.write_table(table)
        self.rows += table.num_rows

    def close(self) -> int:
        """Write what is left; returns the rows written."""
        self.flush()
        if self._writer is not None:
            self._writer.close()
        return self.rows


class Sinks:
    """The sinks of one run, created on first use."""

    def __init__(self, out_dir: Path, fmt: Format, chunk_rows: int, mess: Mess | None = None) -> None:
        self.out_dir, self.fmt, self.chunk_rows, self.mess = out_dir, fmt, chunk_rows, mess
        self._sinks: dict[str, Sink] = {}

    def write(self, stem: str, table: pa.Table) -> None:
        if stem not in self._sinks:
            self._sinks[stem] = Sink(self.out_dir / f"{stem}.{self.fmt}", self.fmt, self.chunk_rows, self.mess)
        self._sinks[stem].write(table)

    def close(self) -> dict[str, int]:
        """Close every sink; returns {file name: rows}."""
        return {sink.path.name: sink.close() for sink in self._sinks.values()}


class MemorySinks:
    """Same interface as ``Sinks``, keeping every table in memory (small runs and tests)."""

    def __init__(self) -> None:
        self.tables: dict[str, list[pa.Table]] = {}

    def write(self, stem: str, table: pa.Table) -> None:
        self.tables.setdefault(stem, []).append(table)

    def close(self) -> dict[str, int]:
        return {stem: sum(t.num_rows for t in tables) for stem, tables in self.tables.items()}

    def table(self, stem: str) -> pa.Table:
        tables = self.tables[stem]
        return pa.concat_tables(tables, promote_options="permissive")
