"""A real fault: the service's own PostgreSQL stops and restarts under it.

While the database is down the service stays alive, says it is not ready
and answers score requests 503 with Retry-After; when the database comes
back it serves again without a restart.
"""

from __future__ import annotations

import os

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.security import add_user
from api.settings import Settings
from features.storage import make_engine, upgrade
from tests.conftest import require_component
from tests.utils.own_postgres import own_postgres, server_bin
from tests.utils.scored_city import insert_areas, serve_scores

pytestmark = pytest.mark.postgres


@pytest.fixture
def private_postgres():
    can_run = server_bin() is not None and (os.geteuid() != 0 or os.path.exists("/usr/sbin/runuser"))
    require_component(can_run, "PostgreSQL server binaries (/usr/lib/postgresql/*/bin)")
    with own_postgres() as server:
        yield server


def test_database_down_answers_503_and_the_service_recovers(private_postgres, tmp_path) -> None:
    engine = make_engine(private_postgres.url)
    upgrade(engine)
    communities = insert_areas(engine)
    serve_scores(engine, registry_dir=tmp_path / "registry", area_ids=communities)
    token = {"Authorization": f"Bearer {add_user(engine, name='officer', role='officer', region_id='X0')}"}
    app = create_app(Settings(data_dir=tmp_path, env="test"), engine=engine)
    with TestClient(app, raise_server_exceptions=False) as client:
        assert client.get("/v1/hotspots", headers=token).status_code == 200

        private_postgres.stop()
        down = client.get("/v1/hotspots", headers=token)
        assert down.status_code == 503 and down.headers["retry-after"] == "5"
        assert down.headers["content-type"].startswith("application/problem+json")
        assert "traceback" not in down.text.lower() and "psycopg" not in down.text.lower()
        ready = client.get("/readyz")
        assert ready.status_code == 503 and ready.json()["database"] is False
        assert client.get("/healthz").status_code == 200

        private_postgres.start()
        back = client.get("/v1/hotspots", headers=token)
        assert back.status_code == 200, back.text
        assert client.get("/readyz").json()["ready"] is True

        # A restart nobody noticed: the pooled connections are stale, and the first
        # request after it must still be answered (and audited), not refused.
        private_postgres.stop()
        private_postgres.start()
        assert client.get(f"/v1/areas/{communities[0]}/score", headers=token).status_code == 200
        assert client.get("/v1/hotspots", headers=token).status_code == 200
    engine.dispose()
