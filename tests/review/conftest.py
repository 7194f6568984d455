"""A small simulated city in the database, an app over it, and users of every role and two regions."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.security import add_user
from api.settings import Settings
from tests.review.factories import SimulatedCity, load_into, simulated, small_config


@pytest.fixture(scope="session")
def small_city() -> SimulatedCity:
    """The small city with its 'other' decisions left out: the records hold no analogue of that type."""
    city = simulated(small_config())
    policies = city.frames["policies"]
    frames = dict(city.frames, policies=policies[policies["type"] != "other"].reset_index(drop=True))
    return SimulatedCity(config=city.config, frames=frames)


def street_communities(city: SimulatedCity, street: str) -> list[str]:
    areas = city.frames["areas"]
    return sorted(areas.loc[areas["parent_id"] == street, "area_id"].astype(str))


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@dataclass
class ReviewApp:
    client: TestClient
    engine: object
    city: SimulatedCity
    reviewer: dict[str, str]  # region S00001
    other_reviewer: dict[str, str]  # region S00002
    admin: dict[str, str]
    officer: dict[str, str]
    analyst: dict[str, str]
    mine: list[str]  # communities of S00001
    theirs: list[str]  # communities of S00002


@pytest.fixture
def review_app(engine, tmp_path, small_city) -> ReviewApp:
    load_into(engine, small_city)
    app = create_app(Settings(data_dir=tmp_path, env="test"), engine=engine)
    users = {role: auth(add_user(engine, name=name, role=role, region_id=region)) for name, role, region in [
        ("rev1", "reviewer", "S00001"), ("officer1", "officer", "S00001"), ("analyst1", "analyst", "S00001"),
        ("admin", "admin", "C0")]}
    other = auth(add_user(engine, name="rev2", role="reviewer", region_id="S00002"))
    with TestClient(app, raise_server_exceptions=False) as client:
        yield ReviewApp(client=client, engine=engine, city=small_city, reviewer=users["reviewer"], other_reviewer=other,
                        admin=users["admin"], officer=users["officer"], analyst=users["analyst"],
                        mine=street_communities(small_city, "S00001"), theirs=street_communities(small_city, "S00002"))


def proposal(areas: list[str], **changes) -> dict:
    body = {
        "title": "东区旧城改造房屋征收", "type": "relocation", "areas": areas,
        "announce_on": "2026-03-02", "effective_on": "2026-06-01", "households_affected": 900,
        "compensation_ratio": 0.8, "hearing_held": False,
        "consultation": {"opposed_share": 0.3, "respondents": 240, "objections": 3},
        "mitigations": [{"kind": "hold_hearing", "detail": "hearing at the street office"},
                        {"kind": "raise_compensation", "compensation_ratio": 1.1},
                        {"kind": "information_sessions", "detail": "two evening sessions"}],
        "reviewer_judgement": {"legality": "Approved by the provincial land bureau (doc 2026-14)"},
    }
    body.update(changes)
    return body
