"""Least privilege on every route: roles get 403 where they lack the right, and
areas outside a user's region answer 404 exactly like areas that do not exist."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from api.security import PERMISSIONS, ROLES, add_user
from features.storage.tables import audit_log
from tests.api.conftest import auth

ACTION = {"kind": "action", "action": "meeting_held"}
CSV = ("text/csv", b"petition_id,area_id,received_on,category\nA1,{area},2024-09-02,medical\n")

# (method, path, permission, body); {area} is filled in, {period} is the scored period.
ROUTES = [
    ("GET", "/v1/hotspots?region={area}", "read_scores", None),
    ("GET", "/v1/areas/{area}", "read_scores", None),
    ("GET", "/v1/areas/{area}/score", "read_scores", None),
    ("GET", "/v1/areas/{area}/history", "read_scores", None),
    ("POST", "/v1/flags/{area}/{period}/actions", "record_actions", ACTION),
    ("POST", "/v1/records/petitions", "upload_records", CSV),
    ("GET", "/v1/models", "read_models", None),
    ("POST", "/v1/models/{version}/promote", "promote_models", None),
]
AREA_ROUTES = [route for route in ROUTES if "{area}" in route[1] or route[3] is CSV]


def call(city, method: str, path: str, body, headers: dict, *, area: str, period: str):
    url = path.format(area=area, period=period, version=city.version)
    if body is CSV:
        return city.client.request(method, url, headers={**headers, "Content-Type": CSV[0]},
                                   content=CSV[1].replace(b"{area}", area.encode()))
    return city.client.request(method, url, headers=headers, json=body)


def test_each_role_gets_exactly_its_rights(city) -> None:
    period = city.client.get("/v1/areas/C101/score", headers=city.admin).json()["period_start"]
    tokens = {role: auth(add_user(city.engine, name=f"{role}-x0", role=role, region_id="X0")) for role in ROLES}
    for role in ROLES:
        for method, path, permission, body in ROUTES:
            response = call(city, method, path, body, tokens[role], area="C101", period=period)
            allowed = permission in PERMISSIONS[role]
            assert (response.status_code != 403) == allowed, (role, method, path, response.status_code, response.text)
            if allowed:
                assert response.status_code < 300, (role, method, path, response.text)
    with city.engine.connect() as connection:
        refused = connection.execute(sa.select(audit_log.c.actor, audit_log.c.action)
                                     .where(audit_log.c.outcome == "forbidden")).all()
    assert ("officer-x0", "upload_records") in refused and ("analyst-x0", "record_actions") in refused


@pytest.mark.parametrize(("method", "path", "permission", "body"), AREA_ROUTES)
def test_areas_outside_the_region_look_like_missing_ones(city, method, path, permission, body) -> None:
    period = city.client.get("/v1/areas/C101/score", headers=city.admin).json()["period_start"]
    role = next(role for role in ("officer", "analyst") if permission in PERMISSIONS[role])
    user = auth(add_user(city.engine, name=f"{role}-d1", role=role, region_id="D1"))
    inside = call(city, method, path, body, user, area="C101", period=period)
    outside = call(city, method, path, body, user, area="C201", period=period)
    missing = call(city, method, path, body, user, area="C999", period=period)
    assert inside.status_code < 300, inside.text
    if body is CSV:  # an upload naming an area outside the region is refused like an unknown area
        assert outside.status_code == missing.status_code == 422
        assert outside.json()["errors"][0]["message"].split(" (value")[0] == missing.json()["errors"][0]["message"].split(" (value")[0]
    else:
        assert outside.status_code == missing.status_code == 404
        assert outside.json()["title"] == missing.json()["title"]
