"""The scoring service of issue 6: areas, history, flag actions, models, uploads, metrics, limits.

Every test runs on SQLite and on the real PostgreSQL (the ``engine`` fixture).
"""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd
import sqlalchemy as sa

from api.security import add_user
from features.ingest import load_frame
from features.storage.tables import audit_log, flag_actions, petitions
from tests.api.conftest import auth
from tests.utils.scored_city import count


def scored_period(city) -> str:
    return city.client.get("/v1/areas/C101/score", headers=city.admin).json()["period_start"]


def load(engine, kind: str, rows: list[dict]) -> None:
    load_frame(engine, kind, pd.DataFrame(rows), source=f"test-{kind}-{len(rows)}", hash_key=b"k", loaded_by="test")


def audit_actions(engine) -> list[tuple[str, str]]:
    with engine.connect() as connection:
        return [(row.action, row.outcome) for row in connection.execute(sa.select(audit_log.c.action, audit_log.c.outcome))]


def test_area_profile_has_hierarchy_and_suppressed_population(city) -> None:
    load(city.engine, "population", [
        {"area_id": "C101", "period_start": "2024-01-01", "residents": 12000, "migrants": 3, "elderly_share": 0.2},
        {"area_id": "C101", "period_start": "2024-07-01", "residents": 12400, "migrants": 4, "unemployed": 40},
    ])
    body = city.client.get("/v1/areas/C101", headers=city.district1).json()
    assert body["name"] == "社区1-1" and body["level"] == "community"
    assert [a["area_id"] for a in body["ancestors"]] == ["X0", "D1"]
    assert body["population"]["period_start"] == "2024-07-01"  # the latest
    assert body["population"]["residents"] == 12400 and body["population"]["migrants"] == "<5"
    assert body["population"]["unemployed"] == 40
    district = city.client.get("/v1/areas/D1", headers=city.district1).json()
    assert district["children"] == 6 and district["population"] is None
    assert city.client.get("/v1/areas/C201", headers=city.district1).status_code == 404  # outside D1
    assert city.client.get("/v1/areas/X0", headers=city.district1).status_code == 404  # above D1
    assert ("read_area", "ok") in audit_actions(city.engine)


def test_history_shows_scores_observed_counts_and_actions(city) -> None:
    period = scored_period(city)
    start = dt.date.fromisoformat(period)
    rows = [{"petition_id": f"P{i}", "area_id": "C101", "received_on": str(start + dt.timedelta(days=i % 7)),
             "category": "labour_wages", "people": 6 if i < 5 else 1} for i in range(7)]
    rows += [{"petition_id": "Q1", "area_id": "C101", "received_on": str(start - dt.timedelta(days=7)), "category": "medical"}]
    load(city.engine, "petitions", rows)
    posted = city.client.post(f"/v1/flags/C101/{period}/actions", headers=city.district1,
                              json={"kind": "action", "action": "mediator_dispatched", "note": "site visit"})
    assert posted.status_code == 201, posted.text
    history = city.client.get("/v1/areas/C101/history", params={"to": period}, headers=city.district1)
    assert history.status_code == 200, history.text
    items = {item["period_start"]: item for item in history.json()["items"]}
    this = items[period]
    assert this["model_version"] == city.version and this["probability"] is not None
    assert this["observed"]["petitions"] == 7 and this["observed"]["collective_petitions"] == 5
    assert this["observed"]["cross_level_petitions"] == "<5"  # small counts suppressed, zero included
    assert [a["action"] for a in this["actions"]] == ["mediator_dispatched"]
    previous = items[str(start - dt.timedelta(days=7))]
    assert previous["observed"]["petitions"] == "<5" and previous["probability"] is None
    bad = city.client.get("/v1/areas/C101/history", params={"from": period, "to": "2020-01-06"}, headers=city.district1)
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "query.from"
    assert city.client.get("/v1/areas/C201/history", headers=city.district1).status_code == 404


def test_flag_actions_and_outcomes_are_validated_and_kept(city) -> None:
    period = scored_period(city)
    url = f"/v1/flags/C102/{period}/actions"
    first = city.client.post(url, headers=city.district1, json={"kind": "action", "action": "meeting_held"}).json()
    outcome = city.client.post(url, headers=city.district1,
                               json={"kind": "outcome", "follows": first["action_id"], "outcome": "resolved"})
    assert outcome.status_code == 201 and outcome.json()["follows"] == first["action_id"]
    assert outcome.json()["model_version"] == city.version and outcome.json()["recorded_by"] == "officer1"

    def refused(body: dict, path: str = url) -> dict:
        response = city.client.post(path, headers=city.district1, json=body)
        assert response.status_code == 422, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
        return response.json()

    assert refused({"kind": "action", "action": "no_action"})["errors"][0]["field"] == "body.note"
    assert refused({"kind": "action", "action": "meeting_held", "note": "call 13912345678"})["errors"][0]["field"] == "body.note"
    assert refused({"kind": "action", "action": "meeting_held", "note": "ID 11010519491231002X"})["errors"][0]["field"] == "body.note"
    assert refused({"kind": "outcome", "follows": 999999, "outcome": "resolved"})["errors"][0]["field"] == "body.follows"
    assert refused({"kind": "outcome", "follows": outcome.json()["action_id"], "outcome": "resolved"})["errors"][0]["field"] == "body.follows"
    assert "body" in refused({"kind": "action", "action": "arrest"})["detail"]  # not an action of a service
    tuesday = str(dt.date.fromisoformat(period) + dt.timedelta(days=1))
    assert refused({"kind": "action", "action": "meeting_held"}, f"/v1/flags/C102/{tuesday}/actions")["errors"][0]["field"] == "path.period"
    assert city.client.post(f"/v1/flags/C201/{period}/actions", headers=city.district1,
                            json={"kind": "action", "action": "meeting_held"}).status_code == 404
    assert city.client.post("/v1/flags/C102/2020-01-06/actions", headers=city.district1,
                            json={"kind": "action", "action": "meeting_held"}).status_code == 404  # no score then
    analyst = auth(add_user(city.engine, name="analyst1", role="analyst", region_id="X0"))
    assert city.client.post(url, headers=analyst, json={"kind": "action", "action": "meeting_held"}).status_code == 403
    assert count(city.engine, flag_actions) == 2  # refused requests wrote nothing
    assert ("record_action", "invalid") in audit_actions(city.engine)


def test_models_can_be_read_and_promoted_by_admin_only(city) -> None:
    listing = city.client.get("/v1/models", headers=city.district1)
    assert listing.status_code == 200 and listing.json()[0]["version"] == city.version and listing.json()[0]["serving"]
    detail = city.client.get(f"/v1/models/{city.version}", headers=city.district1).json()
    assert detail["manifest"]["training_window"] and detail["card_url"].endswith("/card")
    card = city.client.get(detail["card_url"], headers=city.district1)
    assert card.status_code == 200 and card.headers["content-type"].startswith("text/html") and "Model card" in card.text
    assert city.client.get("/v1/models/v-nope", headers=city.admin).status_code == 404
    assert city.client.post(f"/v1/models/{city.version}/promote", headers=city.district1).status_code == 403
    promoted = city.client.post(f"/v1/models/{city.version}/promote", headers=city.admin)
    assert promoted.status_code == 200 and promoted.json()["serving"]
    assert ("promote_model", "ok") in audit_actions(city.engine)


PETITIONS_CSV = "petition_id,area_id,received_on,category\nU1,C101,2024-09-02,labour_wages\nU2,C102,2024-09-03,medical\n"


def test_record_upload_is_all_or_nothing_and_idempotent(city) -> None:
    analyst = auth(add_user(city.engine, name="analyst2", role="analyst", region_id="X0"))
    csv = {**analyst, "Content-Type": "text/csv"}
    first = city.client.post("/v1/records/petitions", headers=csv, content=PETITIONS_CSV.encode())
    assert first.status_code == 200, first.text
    assert first.json()["added"] == 2 and not first.json()["already_loaded"]
    again = city.client.post("/v1/records/petitions", headers=csv, content=PETITIONS_CSV.encode())
    assert again.json()["already_loaded"] and count(city.engine, petitions) == 2
    bad = PETITIONS_CSV + "U3,NOWHERE,2024-09-04,medical\nU4,C101,31/31/2024,medical\n"
    refused = city.client.post("/v1/records/petitions", headers=csv, content=bad.encode())
    assert refused.status_code == 422 and count(city.engine, petitions) == 2
    fields = {error["field"] for error in refused.json()["errors"]}
    assert "body.row 4.area_id" in fields and "body.row 5.received_on" in fields
    lines = "\n".join(json.dumps(row) for row in [
        {"petition_id": "J1", "area_id": "C103", "received_on": "2024-09-05", "category": "environment", "people": 7},
        {"petition_id": "J2", "area_id": "C104", "received_on": "2024-09-06", "category": "medical"},
    ])
    jsonl = {**analyst, "Content-Type": "application/x-ndjson"}
    assert city.client.post("/v1/records/petitions", headers=jsonl, content=lines.encode()).json()["added"] == 2
    broken = city.client.post("/v1/records/petitions", headers=jsonl, content=(lines + '\n{"petition_id": "J3", "area_id": "C1"').encode())
    assert broken.status_code == 422 and "line 3" in broken.json()["detail"]
    wrong_area = '{"petition_id": "J4", "area_id": "ZZ", "received_on": "2024-09-05", "category": "medical"}'
    assert city.client.post("/v1/records/petitions", headers=jsonl, content=wrong_area.encode()).json()["errors"][0]["field"] == "body.line 1.area_id"
    assert city.client.post("/v1/records/petitions", headers={**analyst, "Content-Type": "text/plain"}, content=b"x").status_code == 415
    assert city.client.post("/v1/records/nonsense", headers=csv, content=b"a,b\n").status_code == 422
    assert city.client.post("/v1/records/petitions", headers={**city.district1, "Content-Type": "text/csv"},
                            content=PETITIONS_CSV.encode()).status_code == 403
    assert count(city.engine, petitions) == 4
    assert not list((city.client.app.state.settings.data_dir / "uploads").iterdir())  # no leftovers


def test_bodies_over_the_limit_are_refused(city) -> None:
    period = scored_period(city)
    huge = {"kind": "action", "action": "meeting_held", "note": "x" * 2_000_000}
    response = city.client.post(f"/v1/flags/C101/{period}/actions", headers=city.district1, json=huge)
    assert response.status_code == 413 and response.json()["title"] == "Payload Too Large"
    assert count(city.engine, flag_actions) == 0


def test_metrics_count_requests_by_route_and_scores_served(city) -> None:
    city.client.get("/v1/hotspots", params={"limit": 3}, headers=city.admin)
    city.client.get("/v1/areas/C101/score", headers=city.admin)
    text = city.client.get("/metrics").text
    assert 'concord_requests_total{method="GET",route="/v1/areas/{area_id}/score",status="200"} 1.0' in text
    assert "C101" not in text  # area ids never become metric labels
    assert "concord_scores_served_total 4.0" in text
    assert f'concord_serving_model_info{{version="{city.version}"}} 1.0' in text
    assert 'concord_request_duration_seconds_bucket{le="0.05",method="GET",route="/v1/hotspots"}' in text


def test_cors_is_closed_by_default_and_security_headers_are_set(city) -> None:
    response = city.client.get("/v1/hotspots", headers={**city.admin, "Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in response.headers
    preflight = city.client.options("/v1/hotspots", headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"})
    assert "access-control-allow-origin" not in preflight.headers
    assert response.headers["x-content-type-options"] == "nosniff" and "default-src 'self'" in response.headers["content-security-policy"]


def test_cors_opens_only_to_configured_origins_and_uploads_are_capped_while_streaming(city, tmp_path) -> None:
    from fastapi.testclient import TestClient

    from api.app import create_app
    from api.settings import Settings

    settings = Settings(data_dir=tmp_path, env="test", cors_origins=["https://dash.example"], max_upload_bytes=4096)
    with TestClient(create_app(settings, engine=city.engine), raise_server_exceptions=False) as client:
        allowed = client.options("/v1/hotspots", headers={"Origin": "https://dash.example", "Access-Control-Request-Method": "GET"})
        assert allowed.headers["access-control-allow-origin"] == "https://dash.example"
        other = client.options("/v1/hotspots", headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"})
        assert "access-control-allow-origin" not in other.headers

        def chunks():  # no Content-Length: the cap must hold while the body streams in
            yield PETITIONS_CSV.encode()
            for _ in range(20):
                yield b"U9,C101,2024-09-02,medical\n" * 20

        streamed = client.post("/v1/records/petitions", headers={**city.admin, "Content-Type": "text/csv"}, content=chunks())
        assert streamed.status_code == 413 and streamed.json()["title"] == "Payload Too Large"
        assert count(city.engine, petitions) == 0
        assert not list((tmp_path / "uploads").iterdir())  # the partial file is gone
