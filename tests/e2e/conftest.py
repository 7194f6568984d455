"""A live server on 127.0.0.1 over a tiny scored city, for the browser and load tests."""

from __future__ import annotations

import threading
import time

import pytest
import uvicorn

from api.app import create_app
from api.security import add_user
from api.settings import Settings
from features.storage import make_engine, upgrade
from tests.utils.own_postgres import free_port
from tests.utils.scored_city import insert_areas, serve_scores


@pytest.fixture
def live_city(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'concord.db'}")
    upgrade(engine)
    communities = insert_areas(engine)
    serve_scores(engine, registry_dir=tmp_path / "registry", area_ids=communities)
    tokens = {"officer": add_user(engine, name="officer-d1", role="officer", region_id="D1"),
              "admin": add_user(engine, name="admin-x0", role="admin", region_id="X0")}
    app = create_app(Settings(data_dir=tmp_path, env="test"), engine=engine)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(200):  # bounded wait for the socket
        if server.started:
            break
        time.sleep(0.05)
    assert server.started, "uvicorn did not start"
    try:
        yield f"http://127.0.0.1:{port}", tokens, engine
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        engine.dispose()
