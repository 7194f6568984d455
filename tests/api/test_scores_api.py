"""The thin API: hotspots and area scores, their errors, region scoping and the audit trail."""

from __future__ import annotations

import sqlalchemy as sa

from features.storage.tables import audit_log
from tests.api.conftest import auth
from tests.utils.scored_city import count


def test_health_needs_no_token(city) -> None:
    assert city.client.get("/healthz").json() == {"status": "ok"}
    ready = city.client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["serving_model"] == city.version


def test_hotspots_are_ranked_with_level_and_version(city) -> None:
    response = city.client.get("/v1/hotspots", params={"limit": 5}, headers=city.admin)
    assert response.status_code == 200, response.text
    body = response.json()
    probabilities = [item["probability"] for item in body["items"]]
    assert probabilities == sorted(probabilities, reverse=True)
    assert [item["rank"] for item in body["items"]] == [1, 2, 3, 4, 5]
    assert body["total"] == len(city.communities)
    assert {item["model_version"] for item in body["items"]} == {city.version}
    assert all(item["level"] in {"high", "medium", "low"} for item in body["items"])


def test_officer_sees_only_their_region(city) -> None:
    body = city.client.get("/v1/hotspots", params={"limit": 500}, headers=city.district1).json()
    assert body["total"] == 6 and all(item["area_id"].startswith("C1") for item in body["items"])
    outside = city.client.get("/v1/areas/C201/score", headers=city.district1)
    unknown = city.client.get("/v1/areas/NOPE/score", headers=city.district1)
    assert outside.status_code == unknown.status_code == 404
    assert outside.json()["title"] == unknown.json()["title"] == "Not Found"
    assert city.client.get("/v1/hotspots", params={"region": "D2"}, headers=city.district1).status_code == 404


def test_area_score_and_period_errors(city) -> None:
    ok = city.client.get("/v1/areas/C101/score", headers=city.admin)
    assert ok.status_code == 200 and ok.json()["area_id"] == "C101"
    period = ok.json()["period_start"]
    assert city.client.get("/v1/areas/C101/score", params={"period": period}, headers=city.admin).status_code == 200
    missing = city.client.get("/v1/areas/C101/score", params={"period": "1999-01-04"}, headers=city.admin)
    assert missing.status_code == 404 and "1999-01-04" in missing.json()["detail"]
    bad = city.client.get("/v1/areas/C101/score", params={"period": "last-week"}, headers=city.admin)
    assert bad.status_code == 422 and "period" in bad.json()["detail"]
    assert bad.headers["content-type"].startswith("application/problem+json")
    assert city.client.get("/v1/hotspots", params={"limit": 0}, headers=city.admin).status_code == 422


def test_tokens_are_required_and_checked(city) -> None:
    assert city.client.get("/v1/hotspots").status_code == 401
    assert city.client.get("/v1/hotspots", headers=auth("not-a-token")).status_code == 401


def test_every_read_is_audited(city) -> None:
    before = count(city.engine, audit_log)
    city.client.get("/v1/areas/C101/score", headers=city.district1)
    city.client.get("/v1/areas/C201/score", headers=city.district1)
    with city.engine.connect() as connection:
        rows = connection.execute(sa.select(audit_log).order_by(audit_log.c.entry_id.desc()).limit(2)).all()
    assert count(city.engine, audit_log) == before + 2
    assert [(row.actor, row.outcome, row.area_ids) for row in rows] == [
        ("officer1", "not_found", "C201"), ("officer1", "ok", "C101"),
    ]


def test_no_serving_model_answers_503(city) -> None:
    from features.storage.tables import model_versions

    with city.engine.begin() as connection:
        connection.execute(model_versions.update().values(serving=False))
    response = city.client.get("/v1/hotspots", headers=city.admin)
    assert response.status_code == 503 and "concord train" in response.json()["detail"]
    assert city.client.get("/readyz").status_code == 503


def test_unknown_query_parameter_is_refused_by_name(city) -> None:
    response = city.client.get("/v1/hotspots", params={"perod": "2024-01-01"}, headers=city.admin)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "query.perod"
