"""The HTTP API with a faked Bento transport: shapes, validation, error mapping, operations."""
from __future__ import annotations

import json
import time

import httpx
import pytest

LONG_ID = "x" * 129
BAD_IDS = [LONG_ID, "a%00b", "tab%09id", "%7F"]


def test_health_root_and_docs(client):
    assert client.get("/health").json() == {"status": "ok"}
    assert client.get("/").json() == {"service": "playlist recommender gateway", "docs": "/docs"}
    assert client.get("/docs").status_code == 200
    paths = client.get("/openapi.json").json()["paths"]
    assert "/api/users/{user_id}/likes/{playlist_id}" in paths


def test_first_start_imports_and_later_starts_keep_changes(make_client, tiny_data_dir):
    first = make_client()
    assert first.get("/api/users").json()["total"] == 3
    assert first.put("/api/users/u3/likes/pl5").status_code == 200
    assert first.post("/api/users", json={"name": "Zed", "id": "z"}).status_code == 201
    (tiny_data_dir / "users.csv").write_text("user_id,name\nother,Other\n")  # ignored now
    again = make_client()
    assert again.get("/api/users").json()["total"] == 4
    assert [p["id"] for p in again.get("/api/users/u3/likes").json()["items"]] == ["pl5"]


def test_bad_data_dir_stops_startup_with_file_and_line(make_client, tiny_data_dir):
    (tiny_data_dir / "interactions.csv").write_text("user_id,playlist_id,weight\nu1,pl1,-3\n")
    with pytest.raises(ValueError, match=r"interactions.csv:2: weight"):
        make_client()


def test_users_endpoints(client):
    page = client.get("/api/users", params={"limit": 1, "offset": 1}).json()
    assert page == {"items": [{"id": "u2", "name": "Ben", "like_count": 2}], "total": 3,
                    "limit": 1, "offset": 1}
    assert client.get("/api/users", params={"q": "ada"}).json()["total"] == 1
    assert client.get("/api/users/u1").json() == {"id": "u1", "name": "Ada", "like_count": 2}
    created = client.post("/api/users", json={"name": "  Nova  "})
    assert created.status_code == 201
    assert created.json()["name"] == "Nova" and created.json()["id"].startswith("u-")
    assert client.post("/api/users", json={"name": "X", "id": "u1"}).status_code == 409


def test_playlist_endpoints(client):
    page = client.get("/api/playlists", params={"tag": "jazz", "limit": 1}).json()
    assert page["total"] == 2 and page["items"][0]["id"] == "pl1"
    assert client.get("/api/playlists", params={"q": "rock"}).json()["items"][0]["id"] == "pl2"
    assert client.get("/api/playlists/pl4").json()["name"] == "Café Ünïcode ♫"
    assert client.get("/api/tags").json()["items"][0] == {"tag": "jazz", "count": 2}
    similar = client.get("/api/playlists/pl1/similar", params={"k": 3}).json()
    assert similar == {"playlist_id": "pl1", "model": "m:1", "items": [{
        "playlist_id": "pl3", "name": "Night Jazz", "description": "late jazz",
        "tags": ["jazz"], "tracks": 8, "score": 0.5, "because": []}]}


def test_likes_idempotent(client):
    for _ in range(2):
        assert client.put("/api/users/u3/likes/pl2").json() == {
            "user_id": "u3", "playlist_id": "pl2", "liked": True}
    assert client.get("/api/users/u3/likes").json()["total"] == 1
    for _ in range(2):
        assert client.delete("/api/users/u3/likes/pl2").json()["liked"] is False
    empty = {"user_id": "u3", "items": [], "total": 0}
    assert client.get("/api/users/u3/likes").json() == empty


def test_recommendations_send_history_and_enrich(client, fake_bento):
    answer = client.get("/api/users/u1/recommendations", params={"k": 2}).json()
    sent = json.loads(fake_bento.requests[-1].content)
    # Newest first, each like with when it happened (the Bento may weigh recent likes more).
    assert sent == {"history": ["pl3", "pl1"], "k": 2,
                    "history_times": [1_700_000_100.0, 1_700_000_000.0]}
    assert answer["strategy"] == "personalized" and answer["model"] == "playlist_recommender:fake"
    assert answer["items"][0] == {
        "playlist_id": "pl2", "name": "Gym Rock", "description": "loud_rock",
        "tags": ["rock", "workout"], "tracks": 30, "score": 1.0,
        "because": [{"playlist_id": "pl3", "name": "Night Jazz"}]}
    assert [item["playlist_id"] for item in answer["items"]] == ["pl2", "pl4"]


def test_like_times_go_to_the_bento_when_known(client, fake_bento):
    client.get("/api/users/u2/recommendations")  # imported likes without a time
    assert "history_times" not in json.loads(fake_bento.requests[-1].content)
    before = time.time()
    assert client.put("/api/users/u2/likes/pl3").status_code == 200
    client.get("/api/users/u2/recommendations")
    sent = json.loads(fake_bento.requests[-1].content)
    assert sent["history"][0] == "pl3" and sorted(sent["history"][1:]) == ["pl1", "pl2"]
    assert before <= sent["history_times"][0] <= time.time()
    assert sent["history_times"][1:] == [None, None]


def test_user_without_likes_gets_popular(client, fake_bento):
    answer = client.get("/api/users/u3/recommendations").json()
    assert json.loads(fake_bento.requests[-1].content)["history"] == []
    assert answer["strategy"] == "popular"


def test_items_missing_from_catalogue_are_shown_logged_and_counted(client, caplog):
    items = client.get("/api/users/u3/recommendations", params={"k": 5}).json()["items"]
    assert [item["playlist_id"] for item in items] == ["pl2", "pl4", "pl1", "pl3", "pl9"]
    assert items[-1] == {"playlist_id": "pl9", "name": "pl9", "description": "", "tags": [],
                         "tracks": None, "score": 0.2, "because": []}
    warning = next(r for r in caplog.records if "catalogue lacks" in r.getMessage())
    assert warning.playlist_ids == ["pl9"]
    assert 'gateway_unknown_playlists_total{side="catalogue"} 1.0' in client.get("/metrics").text


def test_seed_contract(client):
    response = client.post("/api/recommendations",
                           json={"user_id": "u1", "num_recommendations": 1})
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"user_id", "recommendations"} and body["user_id"] == "u1"
    (item,) = body["recommendations"]
    assert {"playlist_id", "name", "score", "tags", "because"} <= set(item)
    assert item["score"] == 1.0 and item["name"] == "Gym Rock"   # the fake Bento's first pick
    assert client.post("/api/recommendations", json={"user_id": "u1"}).status_code == 200
    users = client.get("/api/users").json()
    assert [user["id"] for user in users["items"]] == ["u1", "u2", "u3"] and users["total"] == 3
    playlists = client.get("/api/playlists").json()
    assert playlists["total"] == 5 and playlists["items"][0]["id"] == "pl1"  # most liked


def test_model_info_passthrough(client):
    expected = {"tag": "playlist_recommender:fake", "algorithm": "ease", "last_retrain": None}
    assert client.get("/api/model").json() == expected


@pytest.mark.parametrize("method,path", [
    ("GET", "/api/users/{id}"), ("GET", "/api/users/{id}/likes"),
    ("PUT", "/api/users/{id}/likes/pl1"), ("DELETE", "/api/users/{id}/likes/pl1"),
    ("PUT", "/api/users/u1/likes/{id}"), ("DELETE", "/api/users/u1/likes/{id}"),
    ("GET", "/api/users/{id}/recommendations"), ("GET", "/api/playlists/{id}"),
    ("GET", "/api/playlists/{id}/similar"),
])
@pytest.mark.parametrize("bad_id", BAD_IDS)
def test_bad_ids_are_422(client, method, path, bad_id):
    response = client.request(method, path.format(id=bad_id))
    assert response.status_code == 422 and "detail" in response.json()


@pytest.mark.parametrize("method,path", [
    ("GET", "/api/users/nobody"), ("GET", "/api/users/nobody/likes"),
    ("PUT", "/api/users/nobody/likes/pl1"), ("DELETE", "/api/users/nobody/likes/pl1"),
    ("PUT", "/api/users/u1/likes/nope"), ("DELETE", "/api/users/u1/likes/nope"),
    ("GET", "/api/users/nobody/recommendations"), ("GET", "/api/playlists/nope"),
    ("GET", "/api/playlists/nope/similar"), ("GET", "/api/users/%C3%BC%E2%99%AB/likes"),
])
def test_unknown_ids_are_404(client, method, path):
    response = client.request(method, path)
    assert response.status_code == 404 and "not found" in response.json()["detail"]


@pytest.mark.parametrize("path,params", [
    ("/api/users/u1/recommendations", {"k": 0}), ("/api/users/u1/recommendations", {"k": 101}),
    ("/api/users/u1/recommendations", {"k": "ten"}),
    ("/api/users/u1/recommendations", {"k": 10**30}),
    ("/api/playlists/pl1/similar", {"k": -1}), ("/api/playlists/pl1/similar", {"k": 1.5}),
    ("/api/users", {"limit": 0}), ("/api/users", {"limit": 101}), ("/api/users", {"offset": -1}),
    ("/api/users", {"q": "q" * 201}), ("/api/playlists", {"limit": "all"}),
    ("/api/playlists", {"offset": "x"}), ("/api/playlists", {"tag": ""}),
])
def test_bad_query_values_are_422(client, path, params):
    response = client.get(path, params=params)
    assert response.status_code == 422 and response.json()["detail"]


@pytest.mark.parametrize("body", [
    {}, {"user_id": "u1", "num_recommendations": 0}, {"user_id": "u1", "num_recommendations": 101},
    {"user_id": "u1", "num_recommendations": "many"}, {"user_id": 5}, {"user_id": LONG_ID},
    {"user_id": "a\nb"}, [1, 2], "text",
])
def test_seed_endpoint_bad_bodies_are_422(client, body):
    response = client.post("/api/recommendations", json=body)
    assert response.status_code == 422 and response.json()["detail"]


@pytest.mark.parametrize("body", [
    {}, {"name": ""}, {"name": "   "}, {"name": "n" * 201}, {"name": "a\x00b"}, {"name": 7},
    {"name": "=cmd()"}, {"name": "ok", "id": ""}, {"name": "ok", "id": LONG_ID},
    {"name": "ok", "id": "a\tb"},
])
def test_create_user_bad_bodies_are_422(client, body):
    response = client.post("/api/users", json=body)
    assert response.status_code == 422 and response.json()["detail"]


def test_malformed_json_is_422(client):
    response = client.post("/api/users", content=b"{not json",
                           headers={"content-type": "application/json"})
    assert response.status_code == 422


def test_unicode_and_128_char_ids_are_accepted(client):
    user_id = "ü♫" + "x" * 126
    assert client.post("/api/users", json={"name": "Uni", "id": user_id}).status_code == 201
    assert client.put(f"/api/users/{user_id}/likes/pl4").status_code == 200
    assert client.get(f"/api/users/{user_id}/likes").json()["items"][0]["id"] == "pl4"


@pytest.mark.parametrize("failure,status", [
    (httpx.ConnectError("refused"), 503), (httpx.ReadTimeout("slow"), 503),
    (httpx.ConnectTimeout("slow"), 503), (httpx.Response(500, text="boom"), 503),
    (httpx.Response(200, text="not json"), 503),
    (httpx.Response(400, json={"error": "k too large"}), 400),
    (httpx.Response(422, json={"detail": "bad history"}), 422),
])
def test_bento_failures_map_to_clear_statuses(client, fake_bento, failure, status):
    fake_bento.failure = failure
    for method, path in [("GET", "/api/users/u1/recommendations"), ("GET", "/api/model"),
                         ("GET", "/api/playlists/pl1/similar")]:
        response = client.request(method, path)
        assert response.status_code == status, path
        assert response.json()["detail"]
    assert client.get("/api/playlists/pl1").status_code == 200  # browsing still works


def test_bento_404_passes_through(client):
    response = client.get("/api/playlists/pl5/similar")
    assert response.status_code == 404 and response.json()["detail"] == "unknown playlist 'pl5'"


def test_ready_reports_each_dependency(client, fake_bento):
    assert client.get("/ready").json() == {"status": "ready",
                                           "checks": {"database": "ok", "bento": "ok"}}
    fake_bento.failure = httpx.Response(503, text="loading")
    response = client.get("/ready")
    assert response.status_code == 503
    assert response.json()["checks"]["database"] == "ok"
    assert response.json()["checks"]["bento"].startswith("unavailable")
    assert "bento" in response.json()["detail"]
    # An orchestrator's readiness probe keeps the gateway in service while the Bento is down.
    scoped = client.get("/ready", params={"scope": "database"})
    assert scoped.status_code == 200
    assert scoped.json()["checks"] == {"database": "ok", "bento": "not checked"}
    assert client.get("/ready", params={"scope": "nonsense"}).status_code == 422


def test_request_id_is_accepted_returned_and_forwarded(client, fake_bento):
    response = client.get("/api/model", headers={"X-Request-ID": "trace-123"})
    assert response.headers["x-request-id"] == "trace-123"
    assert fake_bento.requests[-1].headers["x-request-id"] == "trace-123"
    minted = client.get("/api/model", headers={"X-Request-ID": "bad id\twith junk"})
    assert len(minted.headers["x-request-id"]) == 32
    assert fake_bento.requests[-1].headers["x-request-id"] == minted.headers["x-request-id"]


def test_metrics_count_routes_and_upstream(client, fake_bento):
    client.get("/api/users/u1")
    client.get("/api/users/nobody")
    fake_bento.failure = httpx.ConnectError("refused")
    client.get("/api/model")
    text = client.get("/metrics").text
    assert ('gateway_requests_total{method="GET",route="/api/users/{user_id}",status="404"} 1.0'
            in text)
    assert 'gateway_upstream_errors_total{endpoint="model_info",kind="unreachable"} 1.0' in text
    assert "gateway_request_duration_seconds_bucket" in text
    assert "gateway_upstream_duration_seconds_count" in text


def test_cors_allows_only_listed_origins(make_client):
    client = make_client(cors_origins="http://good.example, http://also.example")
    allowed = client.get("/health", headers={"Origin": "http://good.example"})
    assert allowed.headers["access-control-allow-origin"] == "http://good.example"
    denied = client.get("/health", headers={"Origin": "http://evil.example"})
    assert "access-control-allow-origin" not in denied.headers
    preflight = client.options("/api/users/u1/likes/pl1", headers={
        "Origin": "http://evil.example", "Access-Control-Request-Method": "PUT"})
    assert preflight.status_code == 400


def test_no_cors_headers_by_default(client):
    response = client.get("/health", headers={"Origin": "http://good.example"})
    assert "access-control-allow-origin" not in response.headers


def test_spa_is_served_without_shadowing_the_api(make_client, tmp_path):
    spa = tmp_path / "spa"
    (spa / "assets").mkdir(parents=True)
    (spa / "index.html").write_text("<!doctype html><title>app</title>")
    (spa / "assets" / "app.js").write_text("console.log(1)")
    (tmp_path / "secret.txt").write_text("secret")
    client = make_client(spa_dir=spa)
    assert "<title>app</title>" in client.get("/").text
    assert client.get("/").headers["cache-control"] == "no-cache"
    for path in ("/", "/assets/app.js", "/users/u1/deep/route"):
        headers = client.get(path).headers
        assert "script-src 'self'" in headers["content-security-policy"]
        assert "frame-ancestors 'none'" in headers["content-security-policy"]
        assert headers["x-content-type-options"] == "nosniff"
    assert client.get("/assets/app.js").text == "console.log(1)"
    assert "<title>app</title>" in client.get("/users/u1/deep/route").text
    assert "secret" not in client.get("/..%2Fsecret.txt").text
    assert client.get("/api/nope").status_code == 404
    assert client.get("/api/nope").json() == {"detail": "Not Found"}
    assert client.get("/metrics/x").status_code == 404
    assert client.get("/health").json() == {"status": "ok"}
    assert client.get("/docs").status_code == 200
    assert client.get("/api/users/u1").json()["name"] == "Ada"
