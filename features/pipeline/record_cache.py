"""The record cache: every version a build read, kept on disk so the next build reads only new batches.

Record versions are append-only and every row carries the ``batch_id`` of
the load that wrote it (ids only grow), so the versions of batches up to a
watermark never change. A build stores what it read as segments under
``data_dir/features/<period>/records/`` — Arrow IPC files, uncompressed with
text as dictionaries, which the next build memory-maps instead of decoding —
each with a small JSON summary (per ``recorded_on`` day: rows, version sum,
highest batch, earliest event; the first day each area and field appears),
and lists them in its manifest with the watermark, row counts and SHA-256s.
The next build checks them, asks the database only for ``batch_id >
watermark`` (an index, migration 0007), answers the whole-table questions
from the summaries (``known``) and takes from the segments only the records
the periods it recomputes can see (by each record's ``reach``: its latest
event, closing or recording day).

Whatever cannot be vouched for means no cache, hence a full read: a missing
or altered segment or summary, a manifest without the entry, a version
changed or removed in place since the cache was written (the tables'
change counters, moved by triggers, migration 0009), or a load batch up to
the watermark committed after it was (a lower batch committed late). See
docs/adr/0012-incremental-snapshot-cache.md and docs/adr/0014 decision 14.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.ipc
from sqlalchemy.engine import Engine

from features.pipeline import versions
from features.pipeline.store import ROOT, content_name

FOLDER = "records"
FORMAT = 5  # 5: checked by the tables' change counters and the load batches, not by counting rows
MAX_SEGMENTS = 12  # beyond this many, a build rewrites the kind as one segment
NO_DAY = int(np.iinfo(np.int32).min)  # a NULL date among the epoch days of cached versions: before every day


def folder(data_dir: Path, period: str) -> Path:
    return Path(data_dir) / ROOT / period / FOLDER


def warm_up() -> None:
    """Load Arrow's Acero engine, which ``summarize``'s (and the population cache's) group-bys run on: ~25 ms of
    imports a process, which a build does in a thread of its own while the database answers its first questions."""
    import pyarrow.acero  # noqa: F401


def summarize(table: pa.Table, kind: str) -> dict:
    """What the whole-table questions need from one segment, keyed by ``recorded_on`` day (epoch days).

    ``days``: parallel lists of day, rows, version sum, highest batch,
    earliest event; ``areas``: each area's first recording day; ``fields``:
    each field's first recording day with a value.
    """
    event = versions.event_column(kind)
    days = table.group_by("recorded_on").aggregate(
        [("version", "count"), ("version", "sum"), ("batch_id", "max"), (event, "min")])
    areas = table.group_by("area_id").aggregate([("recorded_on", "min")])
    fields = {}
    recorded = table.column("recorded_on")
    for name in ["area_id", event, *versions.FIELDS[kind]]:
        column = table.column(name)
        if column.null_count < len(column):
            fields[name] = int(pc.min(recorded.filter(pc.is_valid(column)) if column.null_count else recorded).as_py())
    return {
        "days": [days.column(name).to_pylist() for name in ("recorded_on", "version_count", "version_sum", "batch_id_max", f"{event}_min")],
        "areas": [[str(a) for a in areas.column("area_id").to_pylist()], areas.column("recorded_on_min").to_pylist()],
        "fields": fields,
        "rid_max": int(pc.max(table.column("rid")).as_py()) if len(table) else -1,
        "batch_max": int(pc.max(table.column("batch_id")).as_py()) if len(table) else -1,
    }


def with_reach(table: pa.Table) -> pa.Table:
    """Add ``reach``: the latest event, closing or recording day over each record's versions in ``table``."""
    dates = [name for name in ("received_on", "opened_on", "recorded_on", "closed_on") if name in table.column_names]
    reach = np.maximum.reduce([pc.fill_null(table.column(name), NO_DAY).to_numpy() for name in dates]).astype(np.int32)
    rid = table.column("rid").to_numpy()
    if len(rid):  # only records with several versions (a few %) need the maximum over their versions
        several = np.flatnonzero(np.bincount(rid)[rid] > 1)
        per_record = np.full(rid.max() + 1, NO_DAY, dtype=np.int32)
        np.maximum.at(per_record, rid[several], reach[several])
        reach[several] = per_record[rid[several]]
    return table.append_column(pa.field("reach", pa.int32()), pa.array(reach))


@dataclass
class Segment:
    """One cached segment, checked against its manifest entry (Arrow columns over the file's bytes, no copy)."""

    entry: dict
    table: pa.Table
    summary: dict


@dataclass
class Records:
    """Every version of both kinds as the database holds them now: cached segments plus what was read.

    ``delta`` holds the versions read from the database this time (all of
    them on a full read), with their record ids (``rid``) and ``reach``.
    """

    segments: dict[str, list[Segment]]
    delta: dict[str, pa.Table]
    summaries: dict[str, list[dict]] = field(default_factory=dict)  # per kind: segments' then the delta's
    reason: str = ""  # why the cache was not used ("" when it was)
    standing: versions.Standing | None = None  # the database's, asked before any version was read

    def checks(self) -> dict:
        """What the next build checks the database against: the change counters and, per kind, how many load
        batches had ids up to the watermark, as asked before reading (a batch committed since shows as one more)."""
        if self.standing is None:
            return {}
        marks = self.watermark()
        return {"changes": self.standing.changes,
                "batches_upto": {kind: self.standing.batches_upto(mark) for kind, mark in marks.items()}}

    @property
    def from_cache(self) -> bool:
        return not self.reason

    def watermark(self) -> dict[str, int]:
        return {kind: max((s["batch_max"] for s in summaries), default=-1) for kind, summaries in self.summaries.items()}

    def load(self, kind: str, *, min_reach: int | None = None, ids: bool = False) -> pa.Table:
        """Every version of every record whose reach (over all its versions) is at least ``min_reach``.

        Without ``ids`` the ``record_id`` strings are left out (``rid`` stands in for them).
        """
        parts = [segment.table for segment in self.segments[kind]] + [self.delta[kind]]
        if not ids:
            parts = [part.drop_columns(["record_id"]) for part in parts]
        if min_reach is not None:
            # Segments are stored sorted by reach: the rows reaching ``min_reach`` are a tail, found by bisection
            # without reading the rest of the column. The delta read this time is not sorted: every row is looked at.
            rids = [part.column("rid").to_numpy() for part in parts]
            tails = [_tail(part, min_reach) for part in parts[:-1]]
            reach = parts[-1].column("reach").to_numpy()
            reaching = [slice(tail, None) for tail in tails] + [reach >= min_reach]
            wanted = np.zeros(max((int(r.max(initial=-1)) for r in rids), default=-1) + 1, dtype=bool)
            for rid, rows in zip(rids, reaching):  # a correction in a later part extends the record's reach
                wanted[rid[rows]] = True
            parts = [_with_extended(part, rid, wanted, tail) for part, rid, tail in zip(parts[:-1], rids, tails)] + \
                [parts[-1].filter(pa.array(wanted[rids[-1]]))]
        return pa.concat_tables([versions.as_dictionaries(part, kind) for part in parts])


def _tail(segment: pa.Table, min_reach: int) -> int:
    """The first row of a segment (sorted by reach) that reaches ``min_reach``."""
    reach = segment.column("reach").to_numpy()
    return int(np.searchsorted(reach, reach.dtype.type(min_reach), side="left"))  # not a Python int: no int64 copy


def _with_extended(segment: pa.Table, rid: np.ndarray, wanted: np.ndarray, tail: int) -> pa.Table:
    """The segment's rows from ``tail`` on (a slice of the mapped file, not a copy), after the few rows before it
    whose record ``wanted`` marks: a correction elsewhere extends their reach."""
    extended = np.flatnonzero(wanted[rid[:tail]])
    if not len(extended):
        return segment.slice(tail)
    return pa.concat_tables([segment.take(pa.array(extended)), segment.slice(tail)])


def cache_schema(kind: str) -> pa.Schema:
    return versions.schema(kind).append(pa.field("reach", pa.int32()))


def _fresh_rids(ids: pa.ChunkedArray, *, start: int, version: pa.ChunkedArray | None = None) -> pa.Array:
    """One id per distinct ``record_id``, from ``start`` on.

    With ``version``, only the records that have a later version (a few %)
    are matched by their text: they get the first ids, in order of first
    appearance; every other row is a record of its own and gets the next id
    in row order. Hashing millions of ids into a dictionary cost more.
    """
    ids = ids.combine_chunks()
    if version is None:
        return pc.add(pc.cast(ids.dictionary_encode().indices, pa.int64()), start)
    shared = pc.unique(ids.filter(pc.greater(version.combine_chunks(), 1)))
    position = pc.fill_null(pc.index_in(ids, value_set=shared), -1).to_numpy(zero_copy_only=False).astype(np.int64)
    alone = position < 0
    position[alone] = len(shared) + np.arange(int(alone.sum()))
    return pa.array(position + start)


def _prepare(table: pa.Table, rids: pa.Array, kind: str) -> pa.Table:
    return with_reach(table.append_column(pa.field("rid", pa.int64()), rids))


def _summarized(records: Records) -> Records:
    records.summaries = {kind: [s.summary for s in records.segments[kind]] + [summarize(records.delta[kind], kind)]
                         for kind in versions.KINDS}
    return records


def read_all(engine: Engine, reason: str = "") -> Records:
    """Every version straight from the database (the full path), with fresh record ids.

    On PostgreSQL the kinds are read side by side, each on its own
    connection: the drivers and Arrow release the GIL while they scan, fetch
    and hash. On SQLite one after the other: ADBC's driver carries its own
    SQLite library, and two SQLite libraries opening the same WAL database
    at the same moment in one process do not share its locks and
    shared-memory map; the test suite crashed with a bus error when they did.
    """
    def one(kind: str) -> pa.Table:
        table = versions.read(engine, kind=kind)
        return _prepare(table, _fresh_rids(table.column("record_id"), start=0, version=table.column("version")), kind)

    now = versions.standing(engine)  # before the versions: whatever changes after shows on the next build
    side_by_side = engine.dialect.name != "sqlite"
    with ThreadPoolExecutor(max_workers=len(versions.KINDS) if side_by_side else 1) as pool:
        delta = dict(zip(versions.KINDS, pool.map(one, versions.KINDS)))
    return _summarized(Records(segments={kind: [] for kind in versions.KINDS}, delta=delta, reason=reason, standing=now))


def file_sha256(path: Path) -> str | None:
    """The file's SHA-256 (None when it cannot be read); ``hashlib`` lets other threads run meanwhile."""
    try:
        with pa.memory_map(str(path)) as mapped:
            return hashlib.sha256(mapped.read_buffer()).hexdigest()
    except (OSError, pa.ArrowException):  # missing, unreadable, or not a file that can be mapped
        return None


def map_arrow(path: Path) -> pa.Table | None:
    """The Arrow IPC file's columns over its mapped bytes (nothing decoded), or None if it is not one any more
    (it passed ``as_written`` without being hashed, but was altered with its time set back)."""
    try:
        return pa.ipc.open_file(pa.memory_map(str(path))).read_all()
    except (OSError, pa.ArrowException):
        return None


def _open(entry: dict, *, where: Path, kind: str) -> Segment | None:
    """The segment's columns over the mapped file (nothing decoded) and its summary, if both are the listed ones."""
    table = map_arrow(where / entry["file"])
    if table is None or len(table) != entry["rows"] or versions.plain(table.schema) != cache_schema(kind):
        return None
    summary = where / entry["summary"]
    payload = summary.read_bytes() if summary.is_file() else b""
    if hashlib.sha256(payload).hexdigest() != entry["summary_sha256"]:
        return None
    return Segment(entry, versions.as_dictionaries(table, kind), json.loads(payload))


def _delta_rids(engine: Engine, delta: pa.Table, segments: list[Segment], *, kind: str, watermark: int, start: int) -> pa.Array:
    """Record ids for new versions: the cached record's id for a correction, a fresh one otherwise.

    Only versions after the first can be corrections of a cached record:
    the loader numbers a record's versions from the latest stored one
    (``features.ingest.plan``), and every batch up to the watermark is
    cached, so a version 1 is of a record no cached batch holds. Those few
    ids (~5 % of a week's) are looked up only among the cached rows whose
    reach is at least the earliest of their records' latest recording days
    (``versions.latest_recorded``, asked of the database): segments are
    sorted by reach, so that is a tail of each, where reading every cached
    id touched ~60 MB of mapped pages on the benchmark city.
    """
    ids = delta.column("record_id").combine_chunks()
    fresh = _fresh_rids(pa.chunked_array([ids], type=pa.string()), start=start)
    if not len(ids) or not segments:
        return fresh
    wanted = pc.unique(ids.filter(pc.greater(delta.column("version").combine_chunks(), 1)))
    if not len(wanted):
        return fresh
    since = None
    if len(wanted) <= versions.LATEST_LOOKUP:
        since = versions.latest_recorded(engine, kind=kind, ids=wanted.to_pylist(), batch=watermark)
        if since is None:  # no cached version of any of them: every one is new
            return fresh
    known_ids, known_rids = [], []
    for segment in segments:
        table = segment.table
        if since is not None:
            table = table.slice(_tail(table, since))
        hit = pc.is_in(table.column("record_id"), value_set=wanted)
        known_ids.append(table.column("record_id").filter(hit))
        known_rids.append(table.column("rid").filter(hit))
    known_ids = pa.chunked_array(known_ids, type=pa.string()).combine_chunks()
    if not len(known_ids):
        return fresh
    position = pc.index_in(ids, value_set=known_ids)
    old = pc.take(pa.chunked_array(known_rids, type=pa.int64()).combine_chunks(), pc.fill_null(position, 0))
    return pc.if_else(pc.is_valid(position), old, fresh)


def as_written(item: dict, path: Path) -> bool:
    """The file still has the size and modification time it had when written (``write_arrow`` noted them).

    Checking that instead of hashing ~800 MB saves an incremental build of
    the benchmark city a quarter of a second; it is the quick check of
    git's index and of rsync. A file rewritten in any ordinary way gets a
    new modification time and is hashed; one altered with its time set back
    on purpose is caught only by a forced full rebuild (``verify``).
    """
    try:
        stat = path.stat()
    except OSError:
        return False
    return "size" in item and stat.st_size == item["size"] and stat.st_mtime_ns == item["mtime_ns"]


def read(engine: Engine, *, manifest: dict | None, data_dir: Path, period: str, verify: bool = False) -> Records:
    """The last build's cached versions plus the database's newer batches; a full read when in doubt.

    Segments are hashed when ``verify`` or when they are not as written (``as_written``).
    """
    if manifest is None:
        return read_all(engine)
    entry = manifest.get("records")
    if not entry or entry.get("format") != FORMAT:
        return read_all(engine, "no record cache in the last build")
    where = folder(data_dir, period)
    listed = {kind: entry["segments"].get(kind, []) for kind in versions.KINDS}
    with ThreadPoolExecutor(max_workers=1) as pool:  # hash the segments while the database answers
        digests = {item["file"]: pool.submit(file_sha256, where / item["file"]) for items in listed.values() for item in items
                   if verify or not as_written(item, where / item["file"])}
        now = versions.standing(engine)  # before the versions: whatever changes after shows on the next build
        doubt = _doubt(entry, now)
        if doubt:
            return read_all(engine, doubt)
        new = {kind: versions.read(engine, kind=kind, after_batch=int(entry["watermark"][kind])) for kind in versions.KINDS}
        changed = [name for name, digest in digests.items() if digest.result() != _sha(listed, name)]
    if changed:
        return read_all(engine, f"record cache segment {changed[0]} is missing or changed")
    segments, delta = {}, {}
    for kind in versions.KINDS:
        opened = [_open(item, where=where, kind=kind) for item in listed[kind]]
        if any(segment is None for segment in opened):
            return read_all(engine, f"a {kind} record cache segment does not match its manifest entry")
        start = max((s.summary["rid_max"] for s in opened), default=-1) + 1
        rids = _delta_rids(engine, new[kind], opened, kind=kind, watermark=int(entry["watermark"][kind]), start=start)
        segments[kind], delta[kind] = opened, _prepare(new[kind], rids, kind)
    return _summarized(Records(segments=segments, delta=delta, standing=now))


def _doubt(entry: dict, now: versions.Standing) -> str:
    """Why the database's versions up to the cache's watermark may no longer be the cached ones ("" if none)."""
    for kind in versions.KINDS:
        mark = int(entry["watermark"][kind])
        if now.changes[kind] != entry["changes"][kind]:
            return f"{kind} were changed or removed in place since the record cache was written"
        if now.batches_upto(mark) != entry["batches_upto"][kind]:
            return f"a load batch up to {mark} was committed after the record cache was written"
    return ""


def _sha(listed: dict[str, list[dict]], name: str) -> str:
    return next(item["sha256"] for items in listed.values() for item in items if item["file"] == name)


def _write_segment(table: pa.Table, *, where: Path, kind: str, summary: dict | None = None) -> dict:
    """Arrow IPC, uncompressed, text as dictionaries: the next build maps the bytes instead of decoding them."""
    table = versions.as_dictionaries(table.sort_by("reach"), kind)  # recent records together at the end
    table = table.unify_dictionaries().combine_chunks()  # one dictionary per column, as the file format wants
    entry = write_arrow(table, where=where, stem=kind)
    name = entry["file"].removesuffix(".arrow")
    summary = json.dumps(summary if summary is not None else summarize(table, kind), separators=(",", ":")).encode()
    (where / f"{name}.json").write_bytes(summary)
    return {**entry, "summary": f"{name}.json", "summary_sha256": hashlib.sha256(summary).hexdigest()}


def write_arrow(table: pa.Table, *, where: Path, stem: str) -> dict:
    """``table`` as an uncompressed Arrow IPC file named by its content; returns what vouches for it later.

    The entry (file, rows, SHA-256, size, modification time) is what
    ``as_written`` and ``file_sha256`` check before a later build maps the file.
    """
    tmp = where / f".{stem}-{uuid.uuid4().hex}.tmp"
    with pa.OSFile(str(tmp), "wb") as sink, pa.ipc.new_file(sink, table.schema) as writer:
        writer.write_table(table)
    digest = file_sha256(tmp)
    name = content_name(stem, digest, ".arrow")
    tmp.replace(where / name)  # content-addressed: an existing file of that name holds the same bytes
    written = (where / name).stat()
    return {"file": name, "rows": len(table), "sha256": digest, "size": written.st_size, "mtime_ns": written.st_mtime_ns}


def write(records: Records, *, data_dir: Path, period: str) -> dict:
    """Store what ``records`` adds to the cache; returns the manifest entry that describes the whole cache.

    A full read is written as one segment per kind; an incremental one
    appends its new versions as one more segment, unless that makes too
    many, when the kind is rewritten as one (with every record's reach anew).
    """
    where = folder(data_dir, period)
    where.mkdir(parents=True, exist_ok=True)
    segments = {}
    for kind in versions.KINDS:
        listed = [s.entry for s in records.segments[kind]]
        new, summary = records.delta[kind], records.summaries[kind][-1]  # the delta's summary comes last
        if not listed:  # a full read: the delta is everything, reach and summary included
            listed = [_write_segment(new, where=where, kind=kind, summary=summary)]
        elif len(listed) + 1 > MAX_SEGMENTS:
            whole = records.load(kind, ids=True).drop_columns(["reach"])
            listed = [_write_segment(with_reach(whole), where=where, kind=kind)]
        elif len(new):
            listed.append(_write_segment(new, where=where, kind=kind, summary=summary))
        segments[kind] = listed
    return {"format": FORMAT, "watermark": records.watermark(), "segments": segments, **records.checks()}


def prune(*, data_dir: Path, period: str, keep: dict) -> None:
    """Remove segments the latest manifest does not list: the cache serves only the next build."""
    where = folder(data_dir, period)
    wanted = {item[key] for items in keep["segments"].values() for item in items for key in ("file", "summary")}
    for path in [*where.glob("*.arrow"), *where.glob("*.json")]:
        if path.name not in wanted:
            try:
                path.unlink(missing_ok=True)
            except OSError:  # still mapped elsewhere (Windows): a later build removes it
                pass
