"""Storing builds: one Arrow IPC part and one label file per period, a JSON manifest, a ``feature_builds`` row.

Parts are content-addressed (``<period>-<sha>.arrow``), so an incremental
build writes only the periods it recomputed and its manifest points at the
unchanged parts of the previous build; every earlier build stays readable
(an old model can be re-scored on the panel it was trained on; builds made
before docs/adr/0014 have Parquet parts, read the same way). Labels and
their events are kept a file per period too: late records change past
labels, but only from the first period whose outcome window reaches them
(docs/adr/0014 decision 13; builds before it stored one Parquet file of
labels and one array of events, read the same way). Every count the build
made, at its last period, is kept beside them (``counts/``): the next build
adds its difference to them (docs/adr/0014 decision 12).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from features.labels import label_observed_at
from features.pipeline.spec import BOOKKEEPING, LABEL, check_panel
from features.storage.tables import feature_builds

ROOT = "features"
COMPRESSION: str | None = None  # of the parts (Arrow IPC): "zstd" makes them 3.3x smaller for 18x the CPU (docs/adr/0014)
WRITERS = 2  # threads encoding parts
GROUP = 8  # periods laid out per block
_AREA = pa.dictionary(pa.int32(), pa.string())


def content_name(stem: str, digest: str, suffix: str) -> str:
    """A content-addressed file's name: its stem, the first 16 hex digits of its SHA-256 (``digest``), its suffix."""
    return f"{stem}-{digest[:16]}{suffix}"


def _write(folder: Path, stem: str, payload: bytes | pa.Buffer | tuple[bytes, memoryview], suffix: str) -> str:
    """Write ``payload`` (or its pieces, in order) under a name carrying its SHA-256, unless that file is there."""
    pieces = payload if isinstance(payload, tuple) else (payload,)
    digest = hashlib.sha256()
    for piece in pieces:
        digest.update(piece)
    name = content_name(stem, digest.hexdigest(), suffix)
    path = folder / name
    if not path.exists():
        tmp = path.with_suffix(f".{threading.get_ident()}.tmp")
        with tmp.open("wb") as sink:
            for piece in pieces:
                sink.write(piece)
        tmp.replace(path)
    return name


def _npy(array: np.ndarray) -> tuple[bytes, memoryview]:
    """An ``.npy`` file as its header and the array's own memory: no copy of the array to hash or write it."""
    array = np.ascontiguousarray(array)
    return _npy_header(array.shape, array.dtype), memoryview(array.reshape(-1).view(np.uint8))


def _npy_header(shape: tuple[int, ...], dtype: np.dtype | type) -> bytes:
    """The header ``np.save`` writes before a C-ordered array of ``shape`` and ``dtype``."""
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": np.lib.format.dtype_to_descr(np.dtype(dtype)),
                                                  "fortran_order": False, "shape": tuple(shape)})
    return header.getvalue()


def _ipc_bytes(table: pa.Table) -> pa.Buffer:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_file(sink, table.schema, options=pa.ipc.IpcWriteOptions(compression=COMPRESSION)) as writer:
        writer.write_table(table)
    return sink.getvalue()


def part_schema(area_ids: list[str], names: list[str]) -> pa.Schema:
    """The schema of a part, exactly as ``pa.Table.from_pandas`` gives it for a panel frame (pandas metadata included)."""
    sample = pd.DataFrame({name: np.zeros(1, dtype=np.float32) for name in names})
    sample.insert(0, "period_start", np.zeros(1, dtype="datetime64[ns]"))
    sample.insert(0, "area_id", pd.Categorical.from_codes([0], categories=area_ids))
    return pa.Table.from_pandas(sample, preserve_index=False).schema


def stored_part_schema(manifest: dict, *, data_dir: Path, names: list[str]) -> pa.Schema | None:
    """The schema a build wrote its latest part with, if that is an Arrow IPC part of the feature columns ``names``:
    a build over the same areas writes its parts with it rather than making it again (pandas' metadata, ~15 ms)."""
    if not manifest.get("parts"):
        return None
    path = data_dir / ROOT / manifest["period"] / "parts" / manifest["parts"][max(manifest["parts"])]
    if path.suffix != ".arrow":
        return None
    try:
        with pa.memory_map(str(path)) as mapped:
            schema = pa.ipc.open_file(mapped).schema
    except (OSError, pa.ArrowException):
        return None
    return schema if schema.names == ["area_id", "period_start", *names] else None


def write_parts(arrays: dict[str, np.ndarray], *, starts: pd.DatetimeIndex, area_ids: list[str], data_dir: Path,
                period: str, schema: pa.Schema | None = None) -> "Future[dict[str, str]]":
    """Write one part per period from [areas, periods] feature arrays, in the background; the future gives {period start: file}.

    The periods are laid out a few at a time into reused period-major blocks
    (no copy of the whole panel, no fresh memory to fault in) and encoded by
    ``WRITERS`` threads: Arrow's IPC writer, hashing and file writes release
    the GIL, so they run beside each other and beside whatever the caller does
    meanwhile (the labels). ``arrays`` must stay untouched until the future is done. ``schema`` (a part schema
    of the same areas and features, ``stored_part_schema``) spares making it.
    """
    folder = data_dir / ROOT / period / "parts"
    folder.mkdir(parents=True, exist_ok=True)
    names = list(arrays)
    n_areas = len(area_ids)
    pool = ThreadPoolExecutor(max_workers=max(1, min(WRITERS, len(starts))))

    def encode(block: np.ndarray, j: int, day: str, schema: pa.Schema, area: pa.DictionaryArray) -> tuple[str, str]:
        start = pa.array(np.full(n_areas, starts[j].to_datetime64(), dtype="datetime64[ns]"))
        # each feature's row of the block as an Arrow column over the same bytes: pa.array would take 10x as long per column
        features = [pa.Array.from_buffers(pa.float32(), n_areas, [None, pa.py_buffer(block[i])]) for i in range(len(names))]
        table = pa.Table.from_arrays([area, start, *features], schema=schema)
        return day, _write(folder, day, _ipc_bytes(table), ".arrow")

    def run() -> dict[str, str]:
        made = schema if schema is not None else part_schema(area_ids, names)  # here, not in the caller's thread (~15 ms)
        area = pa.DictionaryArray.from_arrays(pa.array(np.arange(n_areas), type=made.field("area_id").type.index_type),
                                              pa.array(area_ids, type=pa.string()))
        blocks = [np.empty((min(GROUP, len(starts)), len(names), n_areas), dtype=np.float32) for _ in range(WRITERS + 1)]
        pending: list[list[Future]] = [[] for _ in blocks]
        out: dict[str, str] = {}
        try:
            for k, first in enumerate(range(0, len(starts), GROUP)):
                block, waiting = blocks[k % len(blocks)], pending[k % len(blocks)]
                out.update(f.result() for f in waiting)  # the block's last group is written: reuse it
                waiting.clear()
                last = min(first + GROUP, len(starts))
                for i, name in enumerate(names):
                    block[: last - first, i] = arrays[name][:, first:last].T
                for j in range(first, last):
                    waiting.append(pool.submit(encode, block[j - first], j, str(starts[j].date()), made, area))
            for waiting in pending:
                out.update(f.result() for f in waiting)
        finally:
            pool.shutdown(wait=True)
        return out

    runner = ThreadPoolExecutor(max_workers=1)
    future = runner.submit(run)
    runner.shutdown(wait=False)
    return future


def write_label_periods(events: np.ndarray, label: np.ndarray, *, starts: pd.DatetimeIndex, data_dir: Path,
                        period: str) -> dict[str, str]:
    """One file per period (``<period start>-<sha>.npy``, [2, areas] float64: its label events, its labels) from the
    [periods, areas] ``events`` and ``label``; returns {period start: file}.

    Per period, like the parts: an incremental build rewrites only the
    periods whose events or labels moved (docs/adr/0014 decision 13). The
    files are written from the arrays' own rows, without a copy.
    """
    folder = data_dir / ROOT / period / "labels"
    folder.mkdir(parents=True, exist_ok=True)
    header = _npy_header((2, events.shape[1]), np.float64)
    out = {}
    for j, start in enumerate(starts):
        rows = (np.ascontiguousarray(events[j], dtype=np.float64), np.ascontiguousarray(label[j], dtype=np.float64))
        day = str(start.date())
        out[day] = _write(folder, day, (header, *(memoryview(row.view(np.uint8)) for row in rows)), ".npy")
    return out


def read_label_periods(manifest: dict, *, data_dir: Path, days: list[str]) -> np.ndarray:
    """[len(days), 2, areas]: each listed period's label events and labels (``write_label_periods``)."""
    folder = data_dir / ROOT / manifest["period"] / "labels"
    stored = [np.load(folder / manifest["labels"][day]) for day in days]
    return np.stack(stored) if stored else np.zeros((0, 2, len(manifest["areas"])))


def labels_per_period(manifest: dict) -> bool:
    """The build stored its labels a file per period; builds before docs/adr/0014 decision 13 stored one Parquet
    file of every row's label and one ``.npy`` of every period's label events."""
    return isinstance(manifest.get("labels"), dict)


def write_counts(counts: dict[str, np.ndarray], *, data_dir: Path, period: str, at: dt.date) -> dict:
    """Store every count at the period starting ``at``, one [counts, areas] ``.npy`` (one read for the next build,
    where an ``.npz`` of 78 arrays took ~7 ms to open); returns the manifest's ``counts`` entry, which names the rows."""
    folder = data_dir / ROOT / period / "counts"
    folder.mkdir(parents=True, exist_ok=True)
    names = list(counts)
    stacked = np.stack([counts[name] for name in names]) if names else np.zeros((0, 0), dtype=np.float32)
    return {"period": at.isoformat(), "file": _write(folder, "counts", _npy(stacked), ".npy"), "names": names}


def read_counts(manifest: dict | None, *, data_dir: Path, at: dt.date, n_areas: int) -> dict[str, np.ndarray] | None:
    """The last build's counts at the period starting ``at``, or None when it kept none there or they cannot be
    vouched for: the file is gone, its content no longer has the hash its name carries, or its shape is not the panel's
    (or it is an earlier build's ``.npz``: the history span is then read once, as without counts)."""
    entry = (manifest or {}).get("counts")
    if not entry or entry["period"] != at.isoformat() or "names" not in entry:
        return None
    path = data_dir / ROOT / manifest["period"] / "counts" / entry["file"]
    try:
        payload = path.read_bytes()
    except OSError:
        return None
    if entry["file"] != content_name("counts", hashlib.sha256(payload).hexdigest(), ".npy"):
        return None
    stacked = np.load(io.BytesIO(payload), allow_pickle=False)
    if stacked.shape != (len(entry["names"]), n_areas):
        return None
    return dict(zip(entry["names"], stacked))


def record_build(engine: Engine, *, data_dir: Path, manifest: dict) -> int:
    """Write the manifest and its ``feature_builds`` row; returns the build id."""
    folder = data_dir / ROOT / manifest["period"] / "builds"
    folder.mkdir(parents=True, exist_ok=True)
    # Compact: with ``indent`` json encodes in Python, not C (~5x the time for the ~300 KB of fingerprints and areas).
    payload = json.dumps(manifest, sort_keys=True, separators=(",", ":")).encode()
    name = _write(folder, "build", payload, ".json")
    with engine.begin() as connection:
        return connection.execute(feature_builds.insert().values(
            period=manifest["period"], built_at=dt.datetime.now(dt.UTC),
            first_period=dt.date.fromisoformat(manifest["first_period"]),
            last_period=dt.date.fromisoformat(manifest["last_period"]), rows=manifest["rows"],
            catalogue_hash=manifest["catalogue_hash"], data_hash=hashlib.sha256(payload).hexdigest(),
            path=str(Path(ROOT) / manifest["period"] / "builds" / name),
        )).inserted_primary_key[0]


def latest_manifest(engine: Engine, *, data_dir: Path, period: str) -> dict | None:
    """The manifest of the latest build of ``period`` whose files are still there."""
    with engine.connect() as connection:
        row = connection.execute(sa.select(feature_builds.c.build_id, feature_builds.c.path).where(feature_builds.c.period == period)
                                 .order_by(feature_builds.c.build_id.desc()).limit(1)).first()
    if row is None or not (data_dir / row.path).exists():
        return None
    return {**json.loads((data_dir / row.path).read_text()), "build_id": row.build_id}


def read_events(manifest: dict, *, data_dir: Path) -> np.ndarray:
    """The build's [areas, periods] label events, whichever way it stored them (``labels_per_period``)."""
    if labels_per_period(manifest):
        return read_label_periods(manifest, data_dir=data_dir, days=sorted(manifest["labels"]))[:, 0].T
    return np.load(data_dir / ROOT / manifest["period"] / "labels" / manifest["events"])


def read_part(path: Path) -> pa.Table:
    """One stored part: Arrow IPC (``.arrow``, memory-mapped) or, from builds before docs/adr/0014, Parquet.

    ``area_id`` comes back as a dictionary with 32-bit indices either way, so parts of both kinds concatenate.
    """
    if path.suffix == ".arrow":
        table = pa.ipc.open_file(pa.memory_map(str(path))).read_all()
    else:
        table = pq.read_table(path)
    i = table.schema.get_field_index("area_id")
    return table.set_column(i, table.schema.field(i).with_type(_AREA), table.column(i).cast(_AREA))


def read_features(manifest: dict, *, data_dir: Path) -> pd.DataFrame:
    folder = data_dir / ROOT / manifest["period"] / "parts"
    tables = [read_part(folder / manifest["parts"][day]) for day in sorted(manifest["parts"])]
    table = pa.concat_tables(tables, promote_options="none").combine_chunks() if tables else pa.table({})
    frame = table.to_pandas()
    frame["area_id"] = frame["area_id"].astype(pd.CategoricalDtype(manifest["areas"]))
    return frame


def load_panel(engine: Engine, *, data_dir: Path, period: str = "week") -> pd.DataFrame:
    """The latest stored panel of ``period`` (``concord features build`` writes it)."""
    manifest = latest_manifest(engine, data_dir=Path(data_dir), period=period)
    if manifest is None:
        raise LookupError(f"no stored {period} feature build under {data_dir}: run `concord features build`")
    frame = read_features(manifest, data_dir=Path(data_dir))
    if labels_per_period(manifest):
        days = sorted(manifest["labels"])
        frame[LABEL] = read_label_periods(manifest, data_dir=Path(data_dir), days=days)[:, 1].ravel()  # period-major, as the parts
        observed = label_observed_at(pd.DatetimeIndex(days), period=period, horizon=manifest["label"]["horizon"])
        frame[BOOKKEEPING[0]] = np.repeat(observed, len(manifest["areas"]))
    else:
        labels = pq.read_table(Path(data_dir) / ROOT / period / "labels" / manifest["labels"]).to_pandas()
        for column in labels.columns:
            frame[column] = labels[column].to_numpy()
    frame.attrs.update(as_of=manifest["as_of"], period=period)
    return check_panel(frame)
