"""The population cache: every population row a build read, kept so the next build asks the database only whether it changed.

An incremental build needs population twice: its fingerprint per
``period_start`` (to find the first changed period) and the rows of the
last two years (to carry counts forward and compare them a year back).
Asked of the database, that is a group-by over the whole table and a read
of 100,000 rows: 0.3 s of every weekly build on the benchmark city, where
population changes monthly. The whole table is small (330,000 rows, 26 MB
as Arrow), so a build keeps it under ``data_dir/features/<period>/population/``
as one Arrow IPC file with the table's signature (rows, sum of
``residents``, highest ``batch_id``) and answers both from memory; the next
build asks the database for the signature alone (over an index, migration 0008) and
reads the table anew only when it differs, or when the file cannot be
vouched for (``record_cache.as_written``, else its SHA-256).

The signature catches what the per-date fingerprint catches: every load
writes its rows with a batch id above all earlier ones, so a changed or
added row raises the highest batch, and a removed one lowers the count.
See docs/adr/0014-full-build-speed.md, decision 11.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from features.pipeline import versions
from features.pipeline.fingerprint import per_day
from features.pipeline.record_cache import as_written, file_sha256, map_arrow, write_arrow
from features.pipeline.snapshot import _column, _from_arrow
from features.pipeline.store import ROOT
from features.pipeline.versions import epoch_day
from features.storage.tables import population

FOLDER = "population"
FRAME_COLUMNS = [c.name for c in population.c if c.name not in ("content_hash", "batch_id")]  # ``snapshot.load_population``'s
SCHEMA = pa.schema([pa.field(name, pa.string() if name == "area_id" else versions.DAYS if name == "period_start" else pa.float64())
                    for name in FRAME_COLUMNS] + [pa.field("batch_id", pa.int64())])


@dataclass
class Population:
    """Every population row (``table``) and the manifest entry that vouches for its file."""

    table: pa.Table
    entry: dict

    def fingerprints(self, *, as_of: dt.date) -> dict[str, list[float]]:
        """Per ``period_start`` before ``as_of``: [rows, sum of residents, highest batch] (``fingerprint.fingerprints``)."""
        keys = self.table.select(["period_start", "residents", "batch_id"])  # only these columns' pages are read and copied
        known = keys.filter(pc.less(keys.column("period_start"), epoch_day(as_of)))
        groups = known.group_by("period_start").aggregate(
            [("batch_id", "count", pc.CountOptions(mode="all")), ("residents", "sum"), ("batch_id", "max")])
        return per_day(groups.column("period_start").to_numpy(),
                       *(groups.column(name).to_pylist() for name in ("batch_id_count", "residents_sum", "batch_id_max")))

    def frame(self, *, since: dt.date | None, as_of: dt.date) -> pd.DataFrame:
        """The rows with ``since <= period_start < as_of``, as ``snapshot.load_population`` reads them."""
        starts = self.table.column("period_start")
        keep = pc.less(starts, epoch_day(as_of))
        if since is not None:
            keep = pc.and_(keep, pc.greater_equal(starts, epoch_day(since)))
        return _from_arrow(self.table.select(FRAME_COLUMNS).filter(keep), codes=None)


def folder(data_dir: Path, period: str) -> Path:
    return Path(data_dir) / ROOT / period / FOLDER


def signature_statement() -> sa.Select:
    """[rows, sum of residents, highest batch] as three scalar subqueries in one statement (one snapshot): each is
    served by the index on (batch_id, residents) (migration 0008), the highest batch by a lookup, where one aggregate
    over all three read every row of the table."""
    parts = (sa.func.count(), sa.func.coalesce(sa.func.sum(population.c.residents), 0),
             sa.func.coalesce(sa.func.max(population.c.batch_id), -1))
    return sa.select(*[sa.select(part).select_from(population).scalar_subquery() for part in parts])


def signature(engine: Engine) -> list[float]:
    """[rows, sum of residents, highest batch] of the population table, as the database has it now."""
    with engine.connect() as connection:
        return [float(v) for v in connection.execute(signature_statement()).one()]


def _signature_of(table: pa.Table) -> list[float]:
    if not len(table):
        return [0.0, 0.0, -1.0]
    return [float(len(table)), float(pc.sum(table.column("residents")).as_py() or 0), float(pc.max(table.column("batch_id")).as_py())]


def _cached(entry: dict | None, *, where: Path, now: list[float]) -> pa.Table | None:
    """The cached table, if the entry lists the database's signature and the file is the one it lists."""
    if not entry or entry.get("signature") != now:
        return None
    path = where / entry["file"]
    if not as_written(entry, path) and file_sha256(path) != entry["sha256"]:
        return None
    table = map_arrow(path)
    return table if table is not None and len(table) == entry["rows"] and table.schema == SCHEMA else None


def read(engine: Engine, *, manifest: dict | None, data_dir: Path, period: str) -> Population:
    """The population rows: from the last build's cache when the database's signature matches it, else read and cached anew."""
    where = folder(data_dir, period)
    entry = (manifest or {}).get("population")
    table = _cached(entry, where=where, now=signature(engine))
    if table is not None:
        return Population(table, entry)
    statement = sa.select(*[_column(population, name) for name in FRAME_COLUMNS], population.c.batch_id)
    table = versions.conform_to(versions.fetch(engine, statement), SCHEMA)
    where.mkdir(parents=True, exist_ok=True)
    # The signature of the rows read, not of the query above: a load committed in between shows on the next build.
    return Population(table, {**write_arrow(table, where=where, stem="population"), "signature": _signature_of(table)})


def prune(*, data_dir: Path, period: str, keep: dict | None) -> None:
    """Remove population files the latest manifest does not list."""
    for path in folder(data_dir, period).glob("*.arrow"):
        if keep is None or path.name != keep["file"]:
            path.unlink(missing_ok=True)
