"""Migration 0005 matches the table definition, round-trips, and versions are appended, never overwritten."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from features.storage.migrate import alembic_config
from features.storage.tables import metadata, policy_reviews
from models.policy.store import (
    VersionConflict,
    get_review,
    list_latest,
    list_versions,
    save_version,
)

RESULT = {"level_before": "medium", "level_after": "low", "score": float("nan")}


def test_migration_matches_the_table_and_round_trips(engine) -> None:
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), metadata)
    assert [d for d in diff if "policy_reviews" in repr(d)] == []
    command.downgrade(alembic_config(engine), "0004")
    assert "policy_reviews" not in sa.inspect(engine).get_table_names()
    command.upgrade(alembic_config(engine), "head")
    assert "policy_reviews" in sa.inspect(engine).get_table_names()


def save(engine, review_id: str, title: str):
    return save_version(engine, review_id=review_id, proposal={"title": title}, result=RESULT, title=title,
                        policy_type="relocation", region_id="S1", area_ids=["Q1", "Q2"], created_by="rev")


def test_versions_are_appended_and_each_stays_readable(engine) -> None:
    assert save(engine, "r1", "first").version == 1
    assert save(engine, "r1", "second").version == 2
    save(engine, "r2", "other")
    assert get_review(engine, "r1", 1).title == "first" and get_review(engine, "r1").title == "second"
    assert [r.version for r in list_versions(engine, "r1")] == [1, 2]
    assert {(r.review_id, r.version) for r in list_latest(engine)} == {("r1", 2), ("r2", 1)}
    assert get_review(engine, "r1").result["score"] is None  # NaN stored as null: PostgreSQL JSON refuses NaN
    assert get_review(engine, "r1").area_ids == ["Q1", "Q2"]


def test_a_colliding_version_is_refused_not_overwritten(engine, monkeypatch) -> None:
    save(engine, "r1", "first")
    with engine.begin() as connection:  # another writer got version 2 in first
        connection.execute(policy_reviews.insert().values(
            review_id="r1", version=2, title="theirs", policy_type="relocation", region_id="S1", area_ids="Q1",
            level_before="low", level_after="low", proposal={}, result={}, created_by="other",
            created_at=get_review(engine, "r1").created_at))
    real_execute = sa.engine.Connection.execute
    calls = {"n": 0}

    def stale_max(self, statement, *args, **kwargs):  # answers the max read as before theirs landed
        calls["n"] += 1
        if calls["n"] == 1 and "max" in str(statement).lower():
            return real_execute(self, sa.select(sa.literal(1)))
        return real_execute(self, statement, *args, **kwargs)

    monkeypatch.setattr(sa.engine.Connection, "execute", stale_max)
    with pytest.raises(VersionConflict):
        save(engine, "r1", "mine")
    monkeypatch.undo()
    assert get_review(engine, "r1", 2).title == "theirs"
