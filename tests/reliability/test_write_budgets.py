"""Write quotas on every write route, admin ones on their own budget, and anonymous reads that
write nothing: against a real gateway (demo mode, where every caller is admin-equivalent) over
the session's `bentoml serve`."""
from __future__ import annotations

import sqlite3
import time

import httpx
import pytest

from devtools.procs import gateway_for

pytestmark = pytest.mark.slow
ADMIN_BURST, LISTENER_BURST = 5, 3
LISTENER = {"X-Demo-User": "u00001"}


@pytest.fixture(scope="module")
def database(tmp_path_factory):
    return tmp_path_factory.mktemp("budgets-db") / "gateway.db"


@pytest.fixture(scope="module")
def gateway(bento_server, sample_data_dir, artifacts_dir, database):
    # Refills too slow to matter while the test runs: the bursts are the whole budget.
    server = gateway_for(bento_server.url, f"sqlite:///{database}", sample_data_dir,
                         artifacts_dir / "logs", LOG_LEVEL="warning",
                         ADMIN_WRITE_QUOTA_BURST=str(ADMIN_BURST),
                         ADMIN_WRITE_QUOTA_PER_MINUTE="0.01",
                         WRITE_QUOTA_BURST=str(LISTENER_BURST), WRITE_QUOTA_PER_MINUTE="0.01",
                         IMPRESSIONS_FLUSH_MS="50")
    yield server
    server.stop()


def statuses(responses) -> list[int]:
    return [response.status_code for response in responses]


def assert_quota_answer(response: httpx.Response) -> None:
    assert response.status_code == 429, response.text
    assert int(response.headers["retry-after"]) >= 1
    assert response.json()["detail"]


def test_admin_writes_have_their_own_budget(gateway):
    with httpx.Client(base_url=gateway.url, timeout=30) as client:
        created = [client.post("/api/playlists", json={"name": f"Burst {i}"}) for i in range(12)]
        assert statuses(created) == [201] * ADMIN_BURST + [429] * (12 - ADMIN_BURST)
        assert_quota_answer(created[-1])
        for request in (client.patch("/api/playlists/pl0001", json={"name": "x"}),
                        client.delete("/api/playlists/pl0002"),
                        client.post("/api/users", json={"name": "Late"}),
                        client.delete("/api/users/u00002")):
            assert_quota_answer(request)
        # A listener's own writes draw on the listeners' budget, not the admins'.
        assert client.put("/api/me/likes/pl0003", headers=LISTENER).status_code == 200


def test_anonymous_listener_writes_have_a_budget_too(gateway):
    """Demo mode's anonymous callers may write for any listener: budgeted by address."""
    with httpx.Client(base_url=gateway.url, timeout=30) as client:
        likes = [client.put(f"/api/users/u00003/likes/pl000{i}") for i in range(1, 7)]
        assert statuses(likes) == [200] * LISTENER_BURST + [429] * (6 - LISTENER_BURST)
        assert_quota_answer(likes[-1])


def impression_owners(database) -> list:
    with sqlite3.connect(database) as conn:
        return [row[0] for row in conn.execute("SELECT user_id FROM impressions")]


def test_anonymous_reads_write_no_rows(gateway, database):
    with httpx.Client(base_url=gateway.url, timeout=30) as client:
        for _ in range(50):
            assert client.get("/api/recommendations/popular").status_code == 200
        # A signed-in listener's picks are written: once they are, the flusher has run.
        assert client.get("/api/me/recommendations", headers=LISTENER).status_code == 200
    for _ in range(200):
        if "u00001" in impression_owners(database):
            break
        time.sleep(0.05)
    assert impression_owners(database) == ["u00001"]
