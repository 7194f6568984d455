"""Stored scores rendered to JSON once, then served as bytes.

A score row never changes once written for its (area, period, model
version, scored_at), so its validated JSON is kept and reused: the hot read
paths then cost a dictionary lookup and a byte join instead of decoding,
validating and re-encoding every area's reasons and expected counts on each
request (docs/benchmarks.md). Entries are keyed with ``scored_at`` so a
re-scored period is rendered afresh, and the cache is bounded (LRU).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable

from sqlalchemy.engine import Engine

from api.off_loop import io_point
from api.schemas import AreaScore
from api.scores_query import score_rows
from api.ttl_cache import Lru

Key = tuple[str, dt.date, str, object]
CHUNK = 1000


class ScoreRenderCache:
    def __init__(self, max_items: int = 50_000) -> None:
        self.max_items = max_items
        self._items: Lru[Key, bytes] = Lru(max_items)

    def rendered(
        self, engine: Engine, *, model_version: str, period: dt.date, stamped: Iterable[tuple[str, object]],
    ) -> dict[str, bytes]:
        """JSON of each (area_id, scored_at) as an ``AreaScore``; renders only what is not kept yet."""
        stamps = dict(stamped)
        out: dict[str, bytes] = {}
        for area_id, scored_at in stamps.items():
            blob = self._items.get((area_id, period, model_version, scored_at))
            if blob is not None:
                out[area_id] = blob
        missing = [area_id for area_id in stamps if area_id not in out]
        if missing:
            io_point()
            with engine.connect() as connection:
                for start in range(0, len(missing), CHUNK):  # bounded IN lists (SQLite caps bound parameters)
                    rows = score_rows(connection, model_version=model_version, period=period,
                                      area_ids=missing[start:start + CHUNK])
                    for area_id, row in rows.items():
                        out[area_id] = blob = AreaScore(**row).model_dump_json().encode()
                        self._items.put((area_id, period, model_version, stamps[area_id]), blob)
        return out


def with_rank(blob: bytes, rank: int) -> bytes:
    """An ``AreaScore`` JSON object turned into a ``Hotspot`` by adding its rank."""
    return b'{"rank":' + str(rank).encode() + b"," + blob[1:]


def envelope(fields: dict, items: list[bytes]) -> bytes:
    """``fields`` as a JSON object with ``items`` (already JSON) appended."""
    head = json.dumps(fields, default=str, separators=(",", ":"))
    return head[:-1].encode() + b',"items":[' + b",".join(items) + b"]}"
