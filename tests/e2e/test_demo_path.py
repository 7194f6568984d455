"""The whole path in-process: simulate → load → features → train → score → API.

Runs on SQLite and on the real PostgreSQL (the ``engine`` fixture gives each
run its own database or schema), without starting a server.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from fastapi.testclient import TestClient

from api.app import create_app
from api.cli.demo_cmd import run_demo
from api.settings import Settings
from features.storage.tables import load_batches, petitions, scores


def test_demo_path_serves_ranked_hotspots(engine, tmp_path) -> None:
    settings = Settings(
        data_dir=tmp_path, env="test", database_url=engine.url.render_as_string(hide_password=False),
    )
    version, token = run_demo(settings, communities=150, weeks=104, seed=3, start=dt.date(2023, 1, 2))
    with engine.connect() as connection:
        assert connection.execute(sa.select(sa.func.count()).select_from(petitions)).scalar_one() > 0
        scored = connection.execute(sa.select(sa.func.count()).select_from(scores)).scalar_one()
    assert scored >= 150

    with TestClient(create_app(settings, engine=engine)) as client:
        headers = {"Authorization": f"Bearer {token}"}
        body = client.get("/v1/hotspots", params={"limit": 10}, headers=headers).json()
        assert body["model_version"] == version and len(body["items"]) == 10
        top = body["items"][0]
        assert top["reasons"] and all(reason["text"] for reason in top["reasons"]), "every flag carries its reasons"
        assert top["expected_counts"], "expected counts with intervals"
        # Intervals of a count: a small mean can sit above a [0, 0] interval, so only order is promised.
        assert all(0 <= c["lower"] <= c["upper"] and c["expected"] >= 0 for c in top["expected_counts"].values())
        one = client.get(f"/v1/areas/{top['area_id']}/score", headers=headers).json()
        assert one["probability"] == top["probability"]

    # Running the demo again adds no records and leaves one serving model.
    with engine.connect() as connection:
        batches_before = connection.execute(sa.select(sa.func.count()).select_from(load_batches)).scalar_one()
        records_before = connection.execute(sa.select(sa.func.count()).select_from(petitions)).scalar_one()
    run_demo(settings, communities=150, weeks=104, seed=3, start=dt.date(2023, 1, 2))
    with engine.connect() as connection:
        assert connection.execute(sa.select(sa.func.count()).select_from(petitions)).scalar_one() == records_before
        assert connection.execute(sa.select(sa.func.count()).select_from(load_batches)).scalar_one() == batches_before
