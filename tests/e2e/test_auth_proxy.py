"""`AUTH_MODE=proxy make run` end to end (issue 12's "done when"): the launcher's real Bento and
gateway on 127.0.0.1, requests carrying oauth2-proxy's headers as the authenticating proxy
would (the test client is on 127.0.0.1, the default AUTH_TRUSTED_PROXIES)."""
from __future__ import annotations

import json
import os
import signal
import subprocess
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from bento.recsys.dataio import load_dataset
from tests.conftest import run_module
from tests.hostile import JSON, NON_FINITE_SAMPLE, strict_json
from devtools.procs import REPO_ROOT, VENV_BIN, free_port, run_local

pytestmark = pytest.mark.slow
ALICE = {"X-Auth-Request-User": "alice", "X-Auth-Request-Email": "alice@example.org"}
ADMIN = {"X-Auth-Request-User": "ops", "X-Auth-Request-Groups": "staff,admin"}


@pytest.fixture(scope="module")
def launched(bento_home, sample_data_dir, tmp_path_factory):
    """run_local.py with AUTH_MODE=proxy; yields (gateway url, database url, its log)."""
    work = tmp_path_factory.mktemp("auth-proxy")
    database_url = f"sqlite:///{work / 'gateway.db'}"
    launcher, _ = run_local(sample_data_dir, work / "run_local.log", env={
        "AUTH_MODE": "proxy", "BENTOML_HOME": str(bento_home), "DATABASE_URL": database_url})
    try:
        yield launcher.url, database_url, launcher.log_path
    finally:
        launcher.stop(signal.SIGINT, timeout=60)


@pytest.fixture
def api(launched):
    with httpx.Client(base_url=launched[0], timeout=10) as client:
        yield client


def exported_pairs(database_url: str, out) -> set[tuple[str, str]]:
    run_module("gateway.export", "--out", str(out), "--database-url", database_url)
    dataset = load_dataset(out)
    return set(zip(dataset.user_ids, dataset.playlist_ids)), set(dataset.users)


def test_writes_without_identity_are_401(api):
    assert api.get("/api/config").json()["auth_mode"] == "proxy"
    for method, path in [("PUT", "/api/me/likes/pl0001"), ("DELETE", "/api/me/likes/pl0001"),
                         ("PUT", "/api/users/u00001/likes/pl0001"), ("DELETE", "/api/me"),
                         ("DELETE", "/api/users/u00001/likes/pl0001"),
                         ("DELETE", "/api/users/u00001")]:
        answer = api.request(method, path)
        assert answer.status_code == 401 and answer.json()["detail"], (method, path)
    assert api.post("/api/users", json={"name": "Anon", "id": "u-anon"}).status_code == 401
    assert api.get("/api/playlists?limit=2").status_code == 200
    assert api.get("/api/recommendations/popular?k=3").json()["strategy"] == "popular"


def test_alice_likes_only_as_herself_and_only_admins_list_listeners(api):
    assert api.put("/api/me/likes/pl0001", headers=ALICE).status_code == 200
    assert api.put("/api/me/likes/pl0002", headers=ALICE).status_code == 200
    assert api.delete("/api/me/likes/pl0002", headers=ALICE).json()["liked"] is False
    assert [p["id"] for p in api.get("/api/me/likes", headers=ALICE).json()["items"]] == [
        "pl0001"]
    before = api.get("/api/users/u00001/likes", headers=ADMIN).json()["total"]
    assert api.put("/api/users/u00001/likes/pl0003", headers=ALICE).status_code == 403
    assert api.delete("/api/users/u00001/likes/pl0003", headers=ALICE).status_code == 403
    assert api.get("/api/users/u00001/likes", headers=ALICE).status_code == 403
    assert api.get("/api/users/u00001/likes", headers=ADMIN).json()["total"] == before
    assert api.get("/api/users", headers=ALICE).status_code == 403
    listed = api.get("/api/users", headers=ADMIN)
    assert listed.status_code == 200 and listed.json()["total"] > 100
    recs = api.get("/api/me/recommendations?k=5", headers=ALICE).json()
    assert recs["user_id"] == "alice" and recs["strategy"] == "personalized"


def test_erasing_alice_removes_her_from_the_export(api, launched, tmp_path):
    _, database_url, _ = launched
    api.put("/api/me/likes/pl0004", headers=ALICE)
    pairs, users = exported_pairs(database_url, tmp_path / "before")
    assert ("alice", "pl0004") in pairs and "alice" in users
    erased = api.delete("/api/me", headers=ALICE)
    assert erased.status_code == 200 and erased.json()["likes_removed"] >= 1
    pairs, users = exported_pairs(database_url, tmp_path / "after")
    assert not any(user == "alice" for user, _ in pairs) and "alice" not in users


def test_a_burst_of_writes_gets_429s_never_5xx(api):
    burst = {"X-Auth-Request-User": "burst-bot"}

    def write(n: int) -> httpx.Response:
        return api.put(f"/api/me/likes/pl{n % 50 + 1:04d}", headers=burst)

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(write, range(80)))
    statuses = [answer.status_code for answer in answers]
    assert set(statuses) <= {200, 429}, statuses
    assert statuses.count(429) >= 40 and statuses.count(200) >= 10
    refused = next(answer for answer in answers if answer.status_code == 429)
    assert int(refused.headers["retry-after"]) >= 1 and refused.json()["detail"]
    # Another listener is not held back by burst-bot's quota.
    assert api.put("/api/me/likes/pl0001", headers=ALICE).status_code == 200


@pytest.mark.parametrize("who", [{}, ALICE, ADMIN], ids=["anonymous", "listener", "admin"])
def test_non_finite_numbers_are_4xx_json_for_anyone(api, who):
    """422 once the caller may act at all (anonymous writes are 401 first); never a 500."""
    for method, path, body in NON_FINITE_SAMPLE:
        answer = api.request(method, path, content=body, headers={**JSON, **who})
        assert answer.status_code in (401, 403, 422), (path, body, answer.text[:200])
        assert strict_json(answer.text)["detail"]
        if who is ADMIN:
            assert answer.status_code == 422, (path, body, answer.text[:200])


def test_identity_is_trusted_by_the_peer_whatever_x_forwarded_for_names(api):
    """Every proxy adds X-Forwarded-For; the launcher's uvicorn must not let it stand in for
    the peer (127.0.0.1 here) that AUTH_TRUSTED_PROXIES is about."""
    for forwarded in ("203.0.113.9", "127.0.0.1", "203.0.113.9, 198.51.100.7", "junk"):
        me = api.get("/api/me", headers={**ALICE, "X-Forwarded-For": forwarded})
        assert me.status_code == 200 and me.json()["id"] == "alice", (forwarded, me.text)


def test_identity_headers_are_utf8(api):
    me = api.get("/api/me", headers={"X-Auth-Request-User": "jos\u00e9".encode(),
                                     "X-Auth-Request-Email": "jos\u00e9@example.org".encode(),
                                     "X-Auth-Request-Groups": "\u00e9quipe,admin".encode()})
    assert me.status_code == 200, me.text
    assert (me.json()["id"], me.json()["email"]) == ("jos\u00e9", "jos\u00e9@example.org")
    assert me.json()["groups"] == ["admin", "\u00e9quipe"] and me.json()["admin"] is True
    for name in ("X-Auth-Request-User", "X-Auth-Request-Email", "X-Auth-Request-Groups"):
        latin1 = {"X-Auth-Request-User": "bob", name: "jos\u00e9".encode("latin-1")}
        refused = api.get("/api/me", headers=latin1)
        assert refused.status_code == 400 and name.lower() in refused.json()["detail"], name


def test_the_launcher_says_which_mode_runs(launched):
    assert "Auth mode:      proxy" in launched[2].read_text()


def test_writes_leave_audit_lines_and_personal_answers_are_not_cached(api, launched):
    liked = api.put("/api/me/likes/pl0009", headers={**ALICE, "X-Request-ID": "audit-e2e-1"})
    assert liked.headers["cache-control"] == "no-store"
    assert api.get("/api/me", headers=ALICE).headers["cache-control"] == "no-store"
    assert "no-store" not in api.get("/api/playlists?limit=1").headers.get("cache-control", "")
    lines = [json.loads(line) for line in launched[2].read_text().splitlines()
             if line.startswith("{") and '"audit"' in line]
    assert {"actor": "alice", "action": "like", "user_id": "alice", "playlist_id": "pl0009",
            "request_id": "audit-e2e-1", "admin": False}.items() <= next(
        line for line in lines if line.get("request_id") == "audit-e2e-1").items()


def test_proxy_mode_refuses_a_uvicorn_that_rewrites_the_peer(tmp_path):
    """Plain `uvicorn gateway.main:app` applies X-Forwarded-For before the app sees the peer."""
    result = subprocess.run(
        [str(VENV_BIN / "uvicorn"), "gateway.main:app", "--host", "127.0.0.1", "--port",
         str(free_port())], cwd=REPO_ROOT, capture_output=True, text=True, timeout=120,
        env={**os.environ, "AUTH_MODE": "proxy",
             "DATABASE_URL": f"sqlite:///{tmp_path / 'gateway.db'}"})
    assert result.returncode != 0
    assert "--no-proxy-headers" in result.stdout + result.stderr
