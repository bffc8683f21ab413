"""Who may do what (gateway.access) in each AUTH_MODE, through the app with a fake Bento."""
from __future__ import annotations

import json
import logging

import pytest
from fastapi.testclient import TestClient

from gateway.main import create_app
from gateway.observability import JsonFormatter
from gateway.quota import WriteQuota
from gateway.settings import Settings

ALICE = {"X-Auth-Request-User": "alice", "X-Auth-Request-Email": "alice@example.org"}
ADMIN = {"X-Auth-Request-User": "root", "X-Auth-Request-Groups": "staff, admin"}


@pytest.fixture
def make_app(make_client):
    """Clients whose peer is 127.0.0.1 by default: the trusted proxy address."""
    return lambda peer="127.0.0.1", **overrides: make_client(peer, **overrides)


@pytest.fixture
def proxy(make_app) -> TestClient:
    return make_app(auth_mode="proxy")


def test_proxy_mode_anonymous_may_browse_but_not_write_or_read_listeners(proxy):
    assert proxy.get("/api/playlists").status_code == 200
    assert proxy.get("/api/playlists/pl1/similar").status_code == 200
    assert proxy.get("/api/tags").status_code == 200
    popular = proxy.get("/api/recommendations/popular", params={"k": 2})
    assert popular.status_code == 200 and popular.json()["strategy"] == "popular"
    for method, path in [("PUT", "/api/me/likes/pl1"), ("DELETE", "/api/me/likes/pl1"),
                         ("GET", "/api/me"), ("DELETE", "/api/me"), ("GET", "/api/users"),
                         ("PUT", "/api/users/u1/likes/pl5"), ("GET", "/api/users/u1/likes"),
                         ("POST", "/api/users"), ("DELETE", "/api/users/u1"),
                         ("GET", "/api/users/u1/recommendations")]:
        answer = proxy.request(method, path, json={"name": "x"} if method == "POST" else None)
        assert answer.status_code == 401, (method, path, answer.text)
        assert "detail" in answer.json() and answer.headers["www-authenticate"]
    seed = proxy.post("/api/recommendations", json={"user_id": "u1"})
    assert seed.status_code == 401


def test_first_request_creates_the_listener_keyed_by_subject(proxy):
    me = proxy.get("/api/me", headers=ALICE)
    assert me.status_code == 200, me.text
    assert me.json() == {"id": "alice", "name": "alice@example.org", "like_count": 0,
                         "email": "alice@example.org", "groups": [], "admin": False}
    assert me.headers["cache-control"] == "no-store"
    assert proxy.put("/api/me/likes/pl2", headers=ALICE).json() == {
        "user_id": "alice", "playlist_id": "pl2", "liked": True}
    likes = proxy.get("/api/me/likes", headers=ALICE)
    assert [p["id"] for p in likes.json()["items"]] == ["pl2"]
    assert likes.headers["cache-control"] == "no-store"
    recs = proxy.get("/api/me/recommendations", headers=ALICE, params={"k": 3})
    assert recs.status_code == 200 and recs.json()["user_id"] == "alice"
    assert "pl2" not in [item["playlist_id"] for item in recs.json()["items"]]
    assert proxy.delete("/api/me/likes/pl2", headers=ALICE).json()["liked"] is False


def test_a_listener_acts_only_as_themselves(proxy):
    proxy.get("/api/me", headers=ALICE)
    assert proxy.get("/api/users/alice/likes", headers=ALICE).status_code == 200
    for method, path in [("PUT", "/api/users/u1/likes/pl5"), ("DELETE", "/api/users/u1/likes/pl1"),
                         ("GET", "/api/users/u1/likes"), ("GET", "/api/users/u1/recommendations"),
                         ("GET", "/api/users"), ("GET", "/api/users?q=Ada"),
                         ("GET", "/api/users/u1"), ("DELETE", "/api/users/u1")]:
        answer = proxy.request(method, path, headers=ALICE)
        assert answer.status_code == 403, (method, path, answer.text)
        assert answer.json()["detail"]
    assert proxy.post("/api/users", json={"name": "Mallory", "id": "u9"},
                      headers=ALICE).status_code == 403
    assert proxy.post("/api/recommendations", json={"user_id": "u1"},
                      headers=ALICE).status_code == 403
    assert proxy.post("/api/recommendations", json={"user_id": "alice"},
                      headers=ALICE).status_code == 200
    # u1's likes are untouched
    assert len(proxy.get("/api/users/u1/likes", headers=ADMIN).json()["items"]) == 2


def test_admins_manage_every_listener(proxy):
    users = proxy.get("/api/users", headers=ADMIN)
    assert users.status_code == 200 and users.headers["cache-control"] == "no-store"
    assert proxy.put("/api/users/u3/likes/pl5", headers=ADMIN).status_code == 200
    created = proxy.post("/api/users", json={"name": "Dee", "id": "u4"}, headers=ADMIN)
    assert created.status_code == 201
    erased = proxy.delete("/api/users/u1", headers=ADMIN)
    assert erased.json() == {"user_id": "u1", "erased": True, "likes_removed": 2}
    assert proxy.get("/api/users/u1", headers=ADMIN).status_code == 404
    assert proxy.delete("/api/users/u1", headers=ADMIN).status_code == 404
    assert proxy.get("/api/me", headers=ADMIN).json()["admin"] is True


def test_erase_me_removes_the_listener_and_their_likes(proxy):
    proxy.put("/api/me/likes/pl1", headers=ALICE)
    proxy.put("/api/me/likes/pl3", headers=ALICE)
    erased = proxy.delete("/api/me", headers=ALICE)
    assert erased.json() == {"user_id": "alice", "erased": True, "likes_removed": 2}
    assert proxy.get("/api/users/alice", headers=ADMIN).status_code == 404
    assert proxy.get("/api/playlists/pl3").json()["like_count"] == 1  # u1's only


def test_identity_headers_from_an_untrusted_peer_are_refused(make_app):
    outsider = make_app(peer="203.0.113.9", auth_mode="proxy",
                        auth_trusted_proxies="127.0.0.1,10.0.0.0/8")
    for headers in (ALICE, ADMIN, {"X-Auth-Request-Groups": "admin"}):
        answer = outsider.get("/api/users", headers=headers)
        assert answer.status_code == 403 and "AUTH_TRUSTED_PROXIES" in answer.json()["detail"]
    assert outsider.get("/api/playlists").status_code == 200
    inside = make_app(peer="10.1.2.3", auth_mode="proxy",
                      auth_trusted_proxies="127.0.0.1,10.0.0.0/8")
    assert inside.get("/api/users", headers=ADMIN).status_code == 200


@pytest.mark.parametrize("subject", ["a" * 129, "tab\there"])
def test_a_subject_that_is_not_a_valid_id_is_a_403_with_the_reason(proxy, subject):
    answer = proxy.get("/api/me", headers={"X-Auth-Request-User": subject})
    assert answer.status_code == 403 and "not a valid listener id" in answer.json()["detail"]


def test_demo_mode_keeps_the_open_flows_and_takes_the_picked_listener(make_app):
    demo = make_app()
    assert demo.get("/api/users").status_code == 200
    assert demo.put("/api/users/u3/likes/pl1").status_code == 200
    assert demo.get("/api/me").status_code == 401
    picked = demo.get("/api/me", headers={"X-Demo-User": "u3"})
    assert picked.json()["id"] == "u3" and picked.json()["name"] == "Cleo"
    assert [p["id"] for p in demo.get("/api/me/likes",
                                      headers={"X-Demo-User": "u3"}).json()["items"]] == ["pl1"]
    assert demo.get("/api/config").json() == {"auth_mode": "demo", "sign_out_url": ""}
    # The demo header means nothing outside demo mode.
    proxy = make_app(auth_mode="proxy", auth_sign_out_url="/oauth2/sign_out")
    assert proxy.get("/api/me", headers={"X-Demo-User": "u3"}).status_code == 401
    assert proxy.get("/api/config").json() == {"auth_mode": "proxy",
                                               "sign_out_url": "/oauth2/sign_out"}


def test_write_quota_answers_429_with_retry_after(make_app):
    app = make_app(auth_mode="proxy", write_quota_per_minute=6, write_quota_burst=3)
    codes = [app.put(f"/api/me/likes/pl{n % 5 + 1}", headers=ALICE).status_code
             for n in range(6)]
    assert codes == [200, 200, 200, 429, 429, 429]
    refused = app.put("/api/me/likes/pl1", headers=ALICE)
    assert refused.json()["detail"].startswith("too many writes")
    assert 1 <= int(refused.headers["retry-after"]) <= 10
    # Reads and other listeners are not affected.
    assert app.get("/api/me/likes", headers=ALICE).status_code == 200
    assert app.put("/api/me/likes/pl1", headers=ADMIN).status_code == 200


def test_token_bucket_refills_at_the_rate():
    now = [0.0]
    quota = WriteQuota(per_minute=60, burst=2, clock=lambda: now[0])
    quota.take("a")
    quota.take("a")
    with pytest.raises(Exception) as refused:
        quota.take("a")
    assert refused.value.status_code == 429 and refused.value.headers["Retry-After"] == "1"
    now[0] = 1.0
    quota.take("a")
    quota.take("b")


def test_unknown_host_header_is_refused_but_probes_answer(make_app):
    app = make_app(allowed_hosts="playlists.example.org")
    assert app.get("/api/playlists").status_code == 400
    assert app.get("/api/playlists",
                   headers={"Host": "playlists.example.org"}).status_code == 200
    assert app.get("/health").status_code == 200


class JsonLines(logging.Handler):
    """Formats at emit time, as the real handler does, while the request id is current."""

    def __init__(self):
        super().__init__()
        self.setFormatter(JsonFormatter())
        self.lines: list[dict] = []

    def emit(self, record):
        self.lines.append(json.loads(self.format(record)))


def test_every_write_logs_an_audit_line(proxy):
    captured = JsonLines()
    logging.getLogger("gateway.audit").addHandler(captured)
    try:
        proxy.put("/api/me/likes/pl1", headers={**ALICE, "X-Request-ID": "req-42"})
        proxy.delete("/api/users/u2", headers={**ADMIN, "X-Request-ID": "req-43"})
        proxy.get("/api/me/likes", headers=ALICE)  # a read: no audit line
    finally:
        logging.getLogger("gateway.audit").removeHandler(captured)
    assert [(line["actor"], line["action"], line["user_id"], line["request_id"])
            for line in captured.lines] == [("alice", "like", "alice", "req-42"),
                                            ("root", "erase_listener", "u2", "req-43")]


def test_jwt_mode_needs_its_settings():
    with pytest.raises(ValueError, match="AUTH_JWKS_URL"):
        create_app(Settings(auth_mode="jwt"))


def test_proxy_mode_trust_ignores_a_forwarded_address(make_app):
    """FORWARDED_ALLOW_IPS=* lets any peer name the logged address, never the trusted one."""
    proxy = make_app(auth_mode="proxy", forwarded_allow_ips="*")
    assert proxy.get("/api/me", headers={**ALICE, "X-Forwarded-For": "203.0.113.9"}).json()[
        "id"] == "alice"
