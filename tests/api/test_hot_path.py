"""The hot read paths answer from memory: what is kept, for how long, and what it never hides.

docs/adr/0013: tokens, the serving model, a period's ranking and the
hierarchy are kept ``cache_seconds``; a change in the database shows within
that time, and every answer is still audited before it leaves.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
import time
from concurrent.futures import Executor, Future

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from api.app import create_app
from api.off_loop import io_point, run_warm
from api.security import add_user, revoke_user
from api.score_index import warm
from api.settings import Settings
from api.ttl_cache import MISSING, TtlCache
from features.storage.tables import areas, audit_log, load_batches, scores
from tests.api.conftest import auth
from tests.utils.scored_city import count, insert_areas, serve_scores


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class AtOnce(Executor):
    """Runs a refresh where it is asked for, so a test sees its effect deterministically."""

    def submit(self, fn, /, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN201
        future: Future = Future()
        future.set_result(fn(*args, **kwargs))
        return future


def test_ttl_cache_keeps_a_value_for_its_seconds_and_never_keeps_none() -> None:
    clock, loads = Clock(), []
    cache: TtlCache[str, int] = TtlCache(5, clock=clock, max_items=2, refresher=AtOnce())

    def load(value: int | None):  # noqa: ANN202
        return lambda: loads.append(value) or value

    assert cache.get("a", load(1)) == 1
    clock.now += 2.4
    assert cache.get("a", load(2)) == 1 and loads == [1]  # young: served, not reloaded
    clock.now += 0.2
    assert cache.get("a", load(3)) == 1 and loads == [1, 3]  # past half its life: served, refreshed ahead
    assert cache.get("a", load(4)) == 3 and loads == [1, 3]
    clock.now += 5.0
    assert cache.peek("a") is MISSING  # never served past its seconds
    assert cache.get("a", load(5)) == 5
    clock.now += 3.0
    assert cache.get("a", load(None)) == 5 and cache.peek("a") is MISSING  # a refresh that finds nothing drops it
    assert cache.get("none", load(None)) is None and cache.peek("none") is MISSING
    for key in "bcd":
        cache.get(key, load(6))
    assert cache.peek("b") is MISSING  # bounded: the least recently used went first
    assert TtlCache(0).get("x", lambda: 1) == 1 and TtlCache(0).peek("x") is MISSING


def test_ttl_cache_refreshes_ahead_in_the_background_once() -> None:
    clock, started, release = Clock(), threading.Event(), threading.Event()
    cache: TtlCache[str, int] = TtlCache(5, clock=clock)
    cache.get("a", lambda: 1)
    clock.now += 3

    def slow() -> int:
        started.set()
        release.wait(5)
        return 2

    assert cache.get("a", slow) == 1  # does not wait for the refresh
    assert started.wait(5)
    assert cache.get("a", lambda: 99) == 1  # one refresh at a time: this one is not started
    release.set()
    deadline = time.monotonic() + 5
    while cache.peek("a") != 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert cache.peek("a") == 2


def test_run_warm_stays_on_the_loop_until_io_is_needed() -> None:
    seen: list[tuple[str, bool]] = []

    def answer(*, needs_io: bool) -> int:
        on_loop = threading.current_thread() is threading.main_thread()
        if needs_io:
            io_point()
        seen.append(("io" if needs_io else "warm", on_loop))
        return 7

    assert asyncio.run(run_warm(answer, needs_io=False)) == 7
    assert asyncio.run(run_warm(answer, needs_io=True)) == 7
    assert seen == [("warm", True), ("io", False)]  # the I/O run happened in a worker thread
    io_point()  # outside run_warm, I/O is always allowed


@pytest.fixture
def scored(engine, tmp_path):  # noqa: ANN201
    communities = insert_areas(engine)
    version = serve_scores(engine, registry_dir=tmp_path / "registry", area_ids=communities)
    return engine, version, tmp_path


def _client(engine, tmp_path, *, cache_seconds: float) -> TestClient:  # noqa: ANN001
    return TestClient(create_app(Settings(data_dir=tmp_path, env="test", cache_seconds=cache_seconds), engine=engine),
                      raise_server_exceptions=False)


def test_a_revoked_token_is_refused_once_the_kept_user_expires(scored) -> None:
    engine, _, tmp_path = scored
    token = auth(add_user(engine, name="li", role="officer", region_id="D1"))
    clock = Clock()
    with _client(engine, tmp_path, cache_seconds=5) as client:
        client.app.state.tokens = TtlCache(5, clock=clock)
        assert client.get("/v1/areas/C101/score", headers=token).status_code == 200
        revoke_user(engine, name="li")
        clock.now += 4.0
        assert client.get("/v1/areas/C101/score", headers=token).status_code == 200  # the documented window
        clock.now += 1.0
        assert client.get("/v1/areas/C101/score", headers=token).status_code == 401
    with _client(engine, tmp_path, cache_seconds=0) as client:
        assert client.get("/v1/areas/C101/score", headers=token).status_code == 401


def _rescore(engine, version: str, area_id: str, probability: float) -> None:  # noqa: ANN001
    with engine.begin() as connection:
        connection.execute(scores.update().where(scores.c.area_id == area_id, scores.c.model_version == version).values(
            probability=probability, level="high", scored_at=dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1)))


def test_a_rescored_period_is_shown_after_the_recheck_and_never_before_it_is_read(scored) -> None:
    engine, version, tmp_path = scored
    officer = auth(add_user(engine, name="li", role="officer", region_id="D1"))
    with _client(engine, tmp_path, cache_seconds=60) as kept, _client(engine, tmp_path, cache_seconds=0) as fresh:
        before = kept.get("/v1/areas/C106/score", headers=officer).json()
        assert fresh.get("/v1/areas/C106/score", headers=officer).json() == before
        _rescore(engine, version, "C106", 0.999)
        assert kept.get("/v1/areas/C106/score", headers=officer).json() == before  # kept for cache_seconds
        after = fresh.get("/v1/areas/C106/score", headers=officer).json()
        assert after["probability"] == pytest.approx(0.999) and after["level"] == "high"
        top = fresh.get("/v1/hotspots", params={"limit": 1}, headers=officer).json()
        assert [item["area_id"] for item in top["items"]] == ["C106"] and top["items"][0]["rank"] == 1


def test_an_area_loaded_later_is_in_its_region_after_the_recheck(scored) -> None:
    engine, version, tmp_path = scored
    officer = auth(add_user(engine, name="li", role="officer", region_id="D1"))
    with _client(engine, tmp_path, cache_seconds=0) as client:
        assert client.get("/v1/areas/C199/score", headers=officer).status_code == 404
        now = dt.datetime.now(dt.UTC)
        with engine.begin() as connection:
            batch = connection.execute(load_batches.insert().values(
                kind="areas", source="later", sha256="1" * 64, rows_in=1, rows_added=1, rows_corrected=0,
                rows_unchanged=0, loaded_at=now, loaded_by="test")).inserted_primary_key[0]
            connection.execute(areas.insert().values(area_id="C199", name="新社区", parent_id="D1", level="community",
                                                     content_hash="C199", batch_id=batch))
            template = connection.execute(sa.select(scores).where(scores.c.area_id == "C101")).mappings().first()
            connection.execute(scores.insert().values({**template, "area_id": "C199", "scored_at": now}))
        assert client.get("/v1/areas/C199/score", headers=officer).status_code == 200
        total = client.get("/v1/hotspots", headers=officer).json()["total"]
        assert total == 7  # the six communities of D1 and the new one


def test_answers_from_memory_are_audited_one_entry_each(scored) -> None:
    engine, _, tmp_path = scored
    officer = auth(add_user(engine, name="li", role="officer", region_id="D1"))
    with _client(engine, tmp_path, cache_seconds=60) as client:
        client.get("/v1/hotspots", headers=officer)  # loads what is kept
        before = count(engine, audit_log)
        for _ in range(3):
            assert client.get("/v1/areas/C101/score", headers=officer).status_code == 200
            assert client.get("/v1/hotspots", headers=officer).status_code == 200
        assert client.get("/v1/areas/C201/score", headers=officer).status_code == 404
        assert count(engine, audit_log) == before + 7


def test_a_warmed_process_answers_from_memory_without_io(scored) -> None:
    engine, version, tmp_path = scored
    state = create_app(Settings(data_dir=tmp_path, env="test", cache_seconds=60), engine=engine).state
    warm(engine, serving=state.serving_check, index=state.score_index, lineages=state.lineages)

    def answer() -> bool:
        assert state.serving_check.serving(engine) == (version, None)
        scored = state.score_index.period_scores(engine, model_version=version, period=None)
        assert state.lineages.within(engine, region_id="D1", area_id="C101")
        state.score_cache.rendered(engine, model_version=version, period=scored.period,
                                   stamped=[("C101", scored.stamps["C101"])])
        return threading.current_thread() is threading.main_thread()

    assert asyncio.run(run_warm(answer)) is True  # no io_point was reached: nothing went to a thread
