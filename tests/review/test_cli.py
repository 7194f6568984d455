"""``concord review PROPOSAL.json|yaml``: bad files exit 2 naming the field; good ones are stored and reported."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa
import yaml
from typer.testing import CliRunner

from api.cli import app
from features.storage import make_engine, upgrade
from features.storage.tables import audit_log, policy_reviews
from tests.review.conftest import proposal, street_communities
from tests.review.factories import load_into


@pytest.fixture
def cli_city(monkeypatch, tmp_path, small_city):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CONCORD_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("CONCORD_DATABASE_URL", raising=False)
    engine = make_engine(f"sqlite:///{tmp_path / 'concord.db'}")
    upgrade(engine)
    load_into(engine, small_city)
    return engine, tmp_path, street_communities(small_city, "S00001")


@pytest.mark.parametrize(("changes", "field"), [
    ({"effective_on": "2025-01-01"}, "effective_on"),
    ({"compensation_ratio": 9}, "compensation_ratio"),
    ({"consultation": {"opposed_share": -0.2}}, "consultation.opposed_share"),
])
def test_a_bad_proposal_exits_2_naming_the_field(cli_city, changes, field) -> None:
    _, folder, mine = cli_city
    path = folder / "proposal.json"
    path.write_text(json.dumps({**proposal(mine[:2]), **changes}, ensure_ascii=False), encoding="utf-8")
    result = CliRunner().invoke(app, ["review", str(path)])
    assert result.exit_code == 2 and field in result.output, result.output


def test_unknown_areas_exit_2_naming_the_position(cli_city) -> None:
    _, folder, mine = cli_city
    path = folder / "proposal.json"
    path.write_text(json.dumps(proposal([mine[0], "NOWHERE"])), encoding="utf-8")
    result = CliRunner().invoke(app, ["review", str(path)])
    assert result.exit_code == 2 and "areas.1" in result.output and "NOWHERE" in result.output


def test_a_yaml_proposal_is_reviewed_stored_versioned_and_reported(cli_city) -> None:
    engine, folder, mine = cli_city
    path = folder / "proposal.yaml"
    path.write_text(yaml.safe_dump(proposal(mine[:3]), allow_unicode=True), encoding="utf-8")
    runner = CliRunner()
    first = runner.invoke(app, ["review", str(path), "--region", "S00001"])
    assert first.exit_code == 0, first.output
    assert "level" in first.output and "rule: HIGH if" in first.output
    with engine.connect() as connection:
        review_id = connection.execute(sa.select(policy_reviews.c.review_id)).scalar_one()
    second = runner.invoke(app, ["review", str(path), "--edit", review_id, "--out", str(folder / "out")])
    assert second.exit_code == 0, second.output
    assert (folder / "reports" / f"policy-review-{review_id}-v1.pdf").stat().st_size > 10_000
    assert (folder / "out" / f"policy-review-{review_id}-v2.html").read_text(encoding="utf-8").count("<img") == 3
    with engine.connect() as connection:
        versions = connection.execute(sa.select(policy_reviews.c.version).order_by(policy_reviews.c.version)).scalars().all()
        actions = connection.execute(sa.select(audit_log.c.action)).scalars().all()
    assert versions == [1, 2] and actions == ["file_policy_review", "edit_policy_review"]
    outside = runner.invoke(app, ["review", str(path), "--region", "S00002"])
    assert outside.exit_code == 2 and "outside region" in outside.output
