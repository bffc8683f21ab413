"""The admin catalogue API, retirement in recommendations, and the id rule at the API edge."""
from __future__ import annotations

import json
from urllib.parse import quote

import pytest

from datarules import load_dataset
from gateway.export import main as export_main
from tests.conftest import run_module

# Ids the shared rule accepts, each an edge of it; they must round-trip everywhere.
EDGE_IDS = ["a b", "100%", "a?b#c", "...x", "-1", "ü♫", "x" * 128, "a\\b"]
BAD_IDS = ["   ", " lead", "trail ", "../x", "a/b", ".", "..", "u\x85x", "u\x9b", "\u00a0x",
           "=cmd()", "+1", ""]


def test_create_update_retire_playlist(client):
    created = client.post("/api/playlists", json={
        "id": "pl-new", "name": " Fresh ", "description": "new\nstuff", "tags": ["Pop", "pop "],
        "tracks": 3})
    assert created.status_code == 201, created.text
    assert created.json() == {"id": "pl-new", "name": "Fresh", "description": "new\nstuff",
                              "tags": ["pop"], "tracks": 3, "like_count": 0, "retired_at": None}
    assert client.get("/api/playlists/pl-new").json()["name"] == "Fresh"
    assert client.post("/api/playlists", json={"id": "pl1", "name": "x"}).status_code == 409
    generated = client.post("/api/playlists", json={"name": "No id"}).json()
    assert generated["id"].startswith("pl-")

    patched = client.patch("/api/playlists/pl-new", json={"tags": ["rock"], "tracks": None})
    assert patched.status_code == 200
    assert (patched.json()["tags"], patched.json()["tracks"]) == (["rock"], None)
    assert patched.json()["name"] == "Fresh"
    assert client.patch("/api/playlists/nope", json={"name": "x"}).status_code == 404

    retired = client.delete("/api/playlists/pl-new")
    assert retired.status_code == 200 and retired.json()["retired_at"] is not None
    assert client.delete("/api/playlists/pl-new").json() == retired.json()  # idempotent
    assert client.delete("/api/playlists/nope").status_code == 404
    browse = client.get("/api/playlists", params={"limit": 100}).json()
    assert "pl-new" not in [p["id"] for p in browse["items"]]
    assert client.get("/api/playlists", params={"tag": "rock"}).json()["total"] == 1  # pl2
    assert client.get("/api/playlists/pl-new").json()["retired_at"] is not None


@pytest.mark.parametrize("body", [
    {"name": ""}, {"name": "=x"}, {"name": "ok", "tags": ["a|b"]}, {"name": "ok", "tags": [""]},
    {"name": "ok", "tracks": -1}, {"name": "ok", "description": "=1+1"},
    {"name": "ok", "unknown": 1}, {"name": "ok", "tags": ["t"] * 51},
    *({"name": "ok", "id": bad} for bad in BAD_IDS),
])
def test_bad_playlist_bodies_are_422(client, body):
    response = client.post("/api/playlists", json=body)
    assert response.status_code == 422 and response.json()["detail"], response.text
    assert client.get("/api/playlists").json()["total"] == 5  # nothing was written


@pytest.mark.parametrize("body", [{"name": None}, {"tags": None}, {"description": None},
                                  {"name": "a\nb"}, {"tracks": "many"}])
def test_bad_patches_are_422(client, body):
    response = client.patch("/api/playlists/pl1", json=body)
    assert response.status_code == 422 and response.json()["detail"]
    assert client.get("/api/playlists/pl1").json()["name"] == "Morning Jazz"


@pytest.mark.parametrize("bad_id", BAD_IDS)
def test_bad_user_ids_are_refused_at_creation(client, bad_id):
    response = client.post("/api/users", json={"name": "Eve", "id": bad_id})
    assert response.status_code == 422 and response.json()["detail"], response.text
    assert client.get("/api/users").json()["total"] == 3


def test_bad_ids_in_paths_are_422(client):
    for bad_id in ["%20%20", "%C2%85x", "%2B1"]:
        response = client.get(f"/api/users/{bad_id}")
        assert response.status_code == 422 and response.json()["detail"], bad_id


def test_retired_playlists_are_never_recommended_at_once(client, fake_bento):
    before = client.get("/api/users/u3/recommendations", params={"k": 3}).json()["items"]
    assert [item["playlist_id"] for item in before] == ["pl2", "pl4", "pl1"]
    assert client.delete("/api/playlists/pl2").status_code == 200
    after = client.get("/api/users/u3/recommendations", params={"k": 3}).json()
    assert json.loads(fake_bento.requests[-1].content)["exclude"] == ["pl2"]
    assert [item["playlist_id"] for item in after["items"]] == ["pl4", "pl1", "pl3"]  # still 3
    seed = client.post("/api/recommendations", json={"user_id": "u3", "num_recommendations": 5})
    assert "pl2" not in [item["playlist_id"] for item in seed.json()["recommendations"]]


def test_retired_playlists_are_left_out_of_similar(client, fake_bento):
    assert [i["playlist_id"] for i in client.get("/api/playlists/pl1/similar").json()["items"]] \
        == ["pl3"]
    client.delete("/api/playlists/pl3")
    assert client.get("/api/playlists/pl1/similar").json()["items"] == []
    asked = json.loads(fake_bento.requests[-1].content)
    assert asked["k"] == 10 and asked["exclude"] == ["pl3"]  # the Bento leaves it out


def test_a_retired_playlist_cannot_be_liked_but_can_be_unliked(client):
    client.delete("/api/playlists/pl1")
    response = client.put("/api/users/u3/likes/pl1")
    assert response.status_code == 409 and "retired" in response.json()["detail"]
    assert client.delete("/api/users/u1/likes/pl1").status_code == 200
    assert client.get("/api/playlists/pl1").json()["like_count"] == 1


def test_browse_counts_come_from_the_maintained_column(client):
    client.put("/api/users/u3/likes/pl5")
    client.put("/api/users/u3/likes/pl5")
    assert client.get("/api/playlists/pl5").json()["like_count"] == 1
    client.delete("/api/users/u3/likes/pl5")
    assert client.get("/api/playlists/pl5").json()["like_count"] == 0


@pytest.mark.slow
def test_every_id_the_api_accepts_exports_trains_and_is_addressable(client, tmp_path):
    for n, edge_id in enumerate(EDGE_IDS):
        assert client.post("/api/users", json={"name": f"U{n}", "id": edge_id}).status_code == 201
        assert client.post("/api/playlists",
                           json={"name": f"P{n}", "id": edge_id}).status_code == 201
        path_id = quote(edge_id, safe="")
        assert client.get(f"/api/users/{path_id}").json()["id"] == edge_id
        assert client.get(f"/api/playlists/{path_id}").json()["id"] == edge_id
        assert client.put(f"/api/users/{path_id}/likes/{path_id}").status_code == 200
        assert client.put(f"/api/users/{path_id}/likes/pl1").status_code == 200
    database_url = client.app.state.settings.database_url
    assert export_main(["--out", str(tmp_path / "out"), "--database-url", database_url]) == 0
    dataset = load_dataset(tmp_path / "out")
    assert set(EDGE_IDS) <= set(dataset.users) and set(EDGE_IDS) <= set(dataset.playlists)
    assert {(u, p) for u, p in zip(dataset.user_ids, dataset.playlist_ids)} >= {
        (edge_id, edge_id) for edge_id in EDGE_IDS}
    run_module("bento.train", "--data", str(tmp_path / "out"), "--no-eval",
               env={"BENTOML_HOME": str(tmp_path / "bentoml")})


def test_a_playlist_the_model_does_not_know_is_liked_shown_and_counted(client, caplog):
    client.post("/api/playlists", json={"id": "pl-fresh", "name": "Fresh"})
    assert client.put("/api/users/u3/likes/pl-fresh").status_code == 200
    browse = client.get("/api/playlists", params={"q": "fresh"}).json()
    assert [p["id"] for p in browse["items"]] == ["pl-fresh"]
    answer = client.get("/api/users/u3/recommendations").json()
    assert answer["unknown"] == ["pl-fresh"] and answer["strategy"] == "popular"
    assert 'gateway_unknown_playlists_total{side="model"} 1.0' in client.get("/metrics").text
    logged = next(r for r in caplog.records if "model does not know" in r.getMessage())
    assert logged.playlist_ids == ["pl-fresh"]
