"""Ingestion: records in, validated as a whole, written in one transaction or not at all.

``load_file`` and ``load_frame`` are the entry points; the modules behind
them each do one job: ``read`` (CSV/Parquet, encodings, mapping, headers),
``privacy`` (person columns out, ``is_repeat`` from a keyed hash), ``dates``
and ``coerce`` (typed cells), ``validate`` (batch-wide checks), ``hashing``
(content hashes), ``lookup`` (bulk reads of stored keys), ``plan`` (added /
corrected / unchanged / refused) and ``write`` (the transaction).

Conventions a caller can rely on:

- Row numbers are spreadsheet rows: the header is row 1, the first record
  row 2 (for a frame, row = position + 2). Errors about a whole column or
  the file have ``row=None``.
- Every error of a batch is reported at once; a refused batch writes
  nothing, not even its ``load_batches`` row.
- Columns outside the contract are ignored (person columns are dropped
  before anything else looks at the batch).
- Identical bytes already loaded for a kind are not read again
  (``already_loaded``); the same records from another file are
  ``unchanged``, and that load is still recorded in ``load_batches``.
- Versioning rules are in ``plan``; content hashes in ``hashing``.
"""

from features.ingest.errors import BatchRejected, LoadReport, RowError
from features.ingest.load import load_file, load_frame, load_json_lines
from features.ingest.read import read_mapping

__all__ = ["BatchRejected", "LoadReport", "RowError", "load_file", "load_frame", "load_json_lines", "read_mapping"]
