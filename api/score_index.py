"""A scored period's ranking and stamps, held in memory while the period's scores are unchanged.

Scores are written by a batch run (`concord score`) and read by every
officer many times in between, so the hot paths should not rank or look up
a period in the database per request. What is kept per (model version,
period) is narrow: each area's ``scored_at``, its level and the order by
falling probability. It is keyed by the period's *generation* — how many
rows it has and their latest ``scored_at`` — which one aggregate query
reads at most every ``recheck_seconds``; a re-scored period therefore shows
its new scores within that time (docs/adr/0013). When a generation is first
read, its areas' JSON is rendered in bulk, so requests only look it up.
"""

from __future__ import annotations

import datetime as dt
import threading
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from api.off_loop import io_point
from api.regions import LineageCache
from api.score_render import ScoreRenderCache, envelope, with_rank
from api.scores_query import NotFound, latest_period, latest_scored_period
from api.serving import ServingCheck
from api.ttl_cache import Lru, TtlCache
from features.storage.tables import scores


@dataclass(frozen=True)
class PeriodScores:
    """One scored period of one model version, as the hot paths need it."""

    model_version: str
    period: dt.date
    generation: tuple
    stamps: dict[str, object]
    levels: dict[str, str]
    ranking: tuple[str, ...]  # every scored area, by falling probability, then area_id


@dataclass(frozen=True)
class _Resolved:
    period: dt.date | None
    generation: tuple | None
    problem: str | None


class ScoreIndex:
    def __init__(
        self, *, recheck_seconds: float, renders: ScoreRenderCache, max_periods: int = 8, max_rankings: int = 256,
        max_pages: int = 256,
    ) -> None:
        self.renders = renders
        self._resolved: TtlCache[tuple[str, dt.date | None], _Resolved] = TtlCache(recheck_seconds, max_items=1024)
        self._periods: Lru[tuple, PeriodScores] = Lru(max_periods)
        self._rankings: Lru[tuple, tuple[str, ...]] = Lru(max_rankings)
        self._pages: Lru[tuple, tuple[bytes, tuple[str, ...]]] = Lru(max_pages)
        self._loading = threading.Lock()  # one load per generation, not one per waiting request

    def period_scores(self, engine: Engine, *, model_version: str, period: dt.date | None) -> PeriodScores:
        """The period asked for (default: the latest scored); NotFound says what exists instead."""
        resolved = self._resolved.get((model_version, period), lambda: _resolve(engine, model_version, period))
        if resolved.problem is not None:
            raise NotFound(resolved.problem)
        key = (model_version, resolved.period, resolved.generation)
        found = self._periods.get(key)
        if found is not None:
            return found
        io_point()
        with self._loading:
            return self._periods.get(key) or self._load(engine, key, model_version=model_version, resolved=resolved)

    def _load(self, engine: Engine, key: tuple, *, model_version: str, resolved: _Resolved) -> PeriodScores:
        found = _read_period(engine, model_version=model_version, period=resolved.period, generation=resolved.generation)
        # Render the period's JSON in bulk now (one query, then no per-request rendering), highest risk first.
        top = found.ranking[:self.renders.max_items]
        self.renders.rendered(engine, model_version=model_version, period=found.period,
                              stamped=[(area_id, found.stamps[area_id]) for area_id in top])
        self._periods.put(key, found)
        return found

    def hotspots_page(
        self, engine: Engine, scored: PeriodScores, *, lineages: LineageCache, region_id: str, level: str | None,
        offset: int, limit: int,
    ) -> tuple[bytes, tuple[str, ...]]:
        """One page of the region's ranking as the ``HotspotList`` JSON, and the areas on it.

        A page is the same bytes for everyone who may see the region until the
        period is re-scored or the hierarchy moves, so it is kept too.
        """
        key, ranking = self._ranked(engine, scored, lineages=lineages, region_id=region_id, level=level)
        page_key = (key, offset, limit)
        found = self._pages.get(page_key)
        if found is not None:
            return found
        page = ranking[offset:offset + limit]
        rendered = self.renders.rendered(engine, model_version=scored.model_version, period=scored.period,
                                         stamped=[(area_id, scored.stamps[area_id]) for area_id in page])
        next_offset = offset + len(page) if offset + len(page) < len(ranking) else None
        fields = {"region_id": region_id, "period_start": scored.period.isoformat(), "model_version": scored.model_version,
                  "level": level, "total": len(ranking), "offset": offset, "next_offset": next_offset}
        found = envelope(fields, [with_rank(rendered[area_id], rank) for rank, area_id in enumerate(page, start=offset + 1)]), page
        self._pages.put(page_key, found)
        return found

    def _ranked(
        self, engine: Engine, scored: PeriodScores, *, lineages: LineageCache, region_id: str, level: str | None,
    ) -> tuple[tuple, tuple[str, ...]]:
        root = lineages.is_root(engine, area_id=region_id)
        members = None if root else lineages.members(engine, region_id=region_id)
        key = (scored.model_version, scored.period, scored.generation, region_id, None if root else members, level)
        found = self._rankings.get(key)
        if found is not None:
            return key, found
        found = tuple(a for a in scored.ranking
                      if (members is None or a in members) and (level is None or scored.levels[a] == level))
        self._rankings.put(key, found)
        return key, found


def _resolve(engine: Engine, model_version: str, period: dt.date | None) -> _Resolved:
    """Which period, and its generation, in one round trip."""
    wanted = latest_period(model_version) if period is None else sa.literal(period, sa.Date)
    statement = (sa.select(scores.c.period_start, sa.func.count(), sa.func.max(scores.c.scored_at))
                 .where(scores.c.model_version == model_version, scores.c.period_start == wanted)
                 .group_by(scores.c.period_start))
    with engine.connect() as connection:
        row = connection.execute(statement).first()
        if row is not None:
            return _Resolved(period=row[0], generation=(row[1], row[2]), problem=None)
        newest = latest_scored_period(connection, model_version=model_version)
    if period is None or newest is None:
        return _Resolved(None, None, f"model {model_version} has not scored any period yet; run `concord score`")
    return _Resolved(None, None, f"no scores for period {period.isoformat()}; the latest scored period is {newest}")


def _read_period(engine: Engine, *, model_version: str, period: dt.date, generation: tuple) -> PeriodScores:
    statement = (sa.select(scores.c.area_id, scores.c.scored_at, scores.c.level)
                 .where(scores.c.model_version == model_version, scores.c.period_start == period)
                 .order_by(scores.c.probability.desc(), scores.c.area_id))
    with engine.connect() as connection:
        rows = connection.execute(statement).all()
    return PeriodScores(model_version=model_version, period=period, generation=generation,
                        stamps={r.area_id: r.scored_at for r in rows}, levels={r.area_id: r.level for r in rows},
                        ranking=tuple(r.area_id for r in rows))


def warm(engine: Engine, *, serving: ServingCheck, index: ScoreIndex, lineages: LineageCache) -> None:
    """Load what the hot routes keep (hierarchy, the serving model's latest period and its JSON).

    Run once when a server process starts, beside serving, so the first
    officer after a deploy does not wait for it (about 1.3 s for 5,000 areas).
    """
    lineages.hierarchy(engine)
    version, problem = serving.serving(engine)
    if version is not None and problem is None:
        try:
            index.period_scores(engine, model_version=version, period=None)
        except NotFound:
            pass  # nothing scored yet: nothing to keep
