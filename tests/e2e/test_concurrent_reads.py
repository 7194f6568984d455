"""Concurrent officers on the embedded default (SQLite): every request answered, every read audited.

A bounded load on 127.0.0.1 only. The hot path reads and writes its audit
entry on one connection per request; on the embedded database, writers
queue on one lock, so this checks that concurrent requests wait their turn
instead of failing, and that no audit entry is lost.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx
import sqlalchemy as sa

from features.storage.tables import audit_log

CLIENTS, REQUESTS_EACH = 8, 25


def test_concurrent_score_reads_all_succeed_and_are_audited(live_city) -> None:
    base, tokens, engine = live_city
    headers = {"Authorization": f"Bearer {tokens['admin']}"}
    paths = ["/v1/hotspots?limit=10", "/v1/areas/C101/score", "/v1/areas/C203/score"]

    def client(n: int) -> list[int]:
        with httpx.Client(base_url=base, headers=headers, timeout=30) as http:
            return [http.get(paths[(n + i) % len(paths)]).status_code for i in range(REQUESTS_EACH)]

    with ThreadPoolExecutor(CLIENTS) as pool:
        statuses = [status for batch in pool.map(client, range(CLIENTS)) for status in batch]
    assert statuses == [200] * (CLIENTS * REQUESTS_EACH)
    with engine.connect() as connection:
        audited = connection.execute(sa.select(sa.func.count()).select_from(audit_log)
                                     .where(audit_log.c.actor == "admin-x0", audit_log.c.outcome == "ok")).scalar_one()
    assert audited == CLIENTS * REQUESTS_EACH
