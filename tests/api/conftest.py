"""An app over a tiny scored city, with users of each scope."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.security import add_user
from api.settings import Settings
from tests.utils.scored_city import insert_areas, serve_scores


@dataclass
class City:
    client: TestClient
    engine: object
    version: str
    communities: list[str]
    admin: dict[str, str]
    district1: dict[str, str]


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def city(engine, tmp_path) -> City:
    communities = insert_areas(engine)
    version = serve_scores(engine, registry_dir=tmp_path / "registry", area_ids=communities)
    # Tests change the database and read the effect at once: nothing is kept between requests
    # (what is kept, and for how long, is tested in test_hot_path.py).
    settings = Settings(data_dir=tmp_path, env="test", cache_seconds=0)
    app = create_app(settings, engine=engine)
    admin = auth(add_user(engine, name="admin", role="admin", region_id="X0"))
    officer = auth(add_user(engine, name="officer1", role="officer", region_id="D1"))
    with TestClient(app, raise_server_exceptions=False) as client:
        yield City(client=client, engine=engine, version=version, communities=communities, admin=admin, district1=officer)
