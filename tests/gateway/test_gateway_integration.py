"""The gateway through real processes: uvicorn on loopback in front of a real `bentoml serve`."""
from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from bento.recsys.dataio import load_dataset
from tests.conftest import run_module
from devtools.procs import Server, gateway_for

pytestmark = pytest.mark.slow


def start_gateway(artifacts_dir: Path, bento_url: str, database_url: str,
                  data_dir: Path) -> Server:
    return gateway_for(bento_url, database_url, data_dir, artifacts_dir / "logs")


@pytest.fixture(scope="module")
def database_file(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("gateway-db") / "gateway.db"


@pytest.fixture(scope="module")
def gateway(bento_server, sample_data_dir, artifacts_dir, database_file):
    server = start_gateway(artifacts_dir, bento_server.url, f"sqlite:///{database_file}",
                           sample_data_dir)
    yield server
    server.stop()


@pytest.fixture
def api(gateway):
    with httpx.Client(base_url=gateway.url, timeout=10) as client:
        yield client


def recommended_ids(api: httpx.Client, user_id: str, k: int = 10) -> list[str]:
    response = api.get(f"/api/users/{user_id}/recommendations", params={"k": k})
    assert response.status_code == 200, response.text
    return [item["playlist_id"] for item in response.json()["items"]]


def test_imported_sample_data_and_ready(api, sample_data_dir):
    dataset = load_dataset(sample_data_dir)
    assert api.get("/api/users").json()["total"] == len(dataset.users)
    assert api.get("/api/playlists").json()["total"] == len(dataset.playlists)
    ready = api.get("/ready")
    assert ready.status_code == 200 and ready.json()["checks"] == {"database": "ok",
                                                                   "bento": "ok"}


def test_liking_changes_the_next_recommendations(api):
    user_id = api.get("/api/users").json()["items"][0]["id"]
    before = api.get(f"/api/users/{user_id}/recommendations", params={"k": 10}).json()
    assert before["strategy"] == "personalized" and before["model"].startswith(
        "playlist_recommender:")
    liked_ids = {p["id"] for p in api.get(f"/api/users/{user_id}/likes").json()["items"]}
    assert all(item["because"] and {b["playlist_id"] for b in item["because"]} <= liked_ids
               for item in before["items"])
    top = before["items"][0]["playlist_id"]
    assert api.put(f"/api/users/{user_id}/likes/{top}").json()["liked"] is True
    after = recommended_ids(api, user_id)
    assert top not in after and after != [item["playlist_id"] for item in before["items"]]
    assert api.delete(f"/api/users/{user_id}/likes/{top}").json()["liked"] is False
    assert top in recommended_ids(api, user_id)


def test_new_listener_gets_personal_results_after_one_like(api):
    user = api.post("/api/users", json={"name": "Newcomer"}).json()
    cold = api.get(f"/api/users/{user['id']}/recommendations").json()
    assert cold["strategy"] == "popular" and len(cold["items"]) == 10
    niche = api.get("/api/playlists", params={"offset": 100, "limit": 1}).json()["items"][0]
    api.put(f"/api/users/{user['id']}/likes/{niche['id']}")
    warm = api.get(f"/api/users/{user['id']}/recommendations").json()
    assert warm["strategy"] == "personalized"
    assert [i["playlist_id"] for i in warm["items"]] != [i["playlist_id"] for i in cold["items"]]
    assert all(item["because"] == [{"playlist_id": niche["id"], "name": niche["name"]}]
               for item in warm["items"])


def test_seed_contract_and_model(api):
    user_id = api.get("/api/users").json()["items"][1]["id"]
    body = api.post("/api/recommendations",
                    json={"user_id": user_id, "num_recommendations": 3}).json()
    assert body["user_id"] == user_id and len(body["recommendations"]) == 3
    assert {"playlist_id", "name", "score", "tags", "because"} <= set(body["recommendations"][0])
    assert api.get("/api/model").json()["tag"].startswith("playlist_recommender:")
    similar = api.get(f"/api/playlists/{body['recommendations'][0]['playlist_id']}/similar",
                      params={"k": 4}).json()
    assert len(similar["items"]) == 4 and all(item["name"] for item in similar["items"])


def test_bad_input_through_real_processes(api):
    assert api.get("/api/users/u00001/recommendations", params={"k": 1000}).status_code == 422
    assert api.get(f"/api/users/{'x' * 200}/likes").status_code == 422
    assert api.get("/api/playlists/nope/similar").status_code == 404
    assert api.post("/api/recommendations", json={"user_id": "nobody"}).status_code == 404
    response = api.get("/api/users/u00001", headers={"X-Request-ID": "it-42"})
    assert response.headers["x-request-id"] == "it-42"
    assert 'route="/api/users/{user_id}"' in api.get("/metrics").text


def test_export_feeds_the_trainer(api, database_file, tmp_path):
    user = api.post("/api/users", json={"name": "Exporter"}).json()
    playlist_id = api.get("/api/playlists").json()["items"][0]["id"]
    api.put(f"/api/users/{user['id']}/likes/{playlist_id}")
    out = tmp_path / "export"
    run_module("gateway.export", "--out", str(out), "--database-url",
               f"sqlite:///{database_file}")
    exported = load_dataset(out)
    assert (user["id"], playlist_id) in set(zip(exported.user_ids, exported.playlist_ids))
    home = tmp_path / "bentoml-home"
    run_module("bento.train", "--data", str(out), "--no-eval", env={"BENTOML_HOME": str(home)})
    assert any((home / "models" / "playlist_recommender").iterdir())


def test_likes_and_users_survive_a_gateway_restart(database_url, bento_server, sample_data_dir,
                                                   artifacts_dir):
    """On SQLite and on a real PostgreSQL (the parametrized `database_url` fixture)."""
    first = start_gateway(artifacts_dir, bento_server.url, database_url, sample_data_dir)
    try:
        user = httpx.post(first.url + "/api/users", json={"name": "Stays"}).json()
        liked = httpx.put(f"{first.url}/api/users/{user['id']}/likes/pl0007")
        assert liked.status_code == 200
        total = httpx.get(first.url + "/api/users").json()["total"]
    finally:
        first.stop()
    again = start_gateway(artifacts_dir, bento_server.url, database_url, sample_data_dir)
    try:
        assert httpx.get(again.url + "/api/users").json()["total"] == total  # no re-import
        likes = httpx.get(f"{again.url}/api/users/{user['id']}/likes").json()
        assert [p["id"] for p in likes["items"]] == ["pl0007"]
        recs = httpx.get(f"{again.url}/api/users/{user['id']}/recommendations").json()
        assert recs["strategy"] == "personalized"
    finally:
        again.stop()


# The Bento outage (503s within a second, recovery, no like lost) is tested under load in
# tests/reliability/test_fault.py.


def test_a_retired_playlist_is_never_recommended_again_at_once(api):
    """Last in this module: it retires playlists in the shared database."""
    users = [u["id"] for u in api.get("/api/users", params={"limit": 5}).json()["items"]]
    top = recommended_ids(api, users[3], k=10)
    retired = top[:3]
    for playlist_id in retired:
        assert api.delete(f"/api/playlists/{playlist_id}").status_code == 200
    for user_id in users:
        after = recommended_ids(api, user_id, k=10)
        assert len(after) == 10 and not set(after) & set(retired), (user_id, after)
    assert recommended_ids(api, users[3], k=7) == top[3:10]
    similar = api.get(f"/api/playlists/{top[5]}/similar", params={"k": 10}).json()["items"]
    assert len(similar) == 10 and not {i["playlist_id"] for i in similar} & set(retired)
    browse = api.get("/api/playlists", params={"limit": 100}).json()["items"]
    assert not {p["id"] for p in browse} & set(retired)


def test_similar_returns_k_items_past_retired_ones_whenever_the_model_has_them(api):
    """After the one above (it retires more): k=100 of 150 playlists is 100 items, however many
    of the nearest are retired."""
    seed = api.get("/api/playlists", params={"limit": 1}).json()["items"][0]["id"]
    nearest = [item["playlist_id"] for item in
               api.get(f"/api/playlists/{seed}/similar", params={"k": 100}).json()["items"]]
    assert len(nearest) == 100
    for playlist_id in nearest[:10]:
        assert api.delete(f"/api/playlists/{playlist_id}").status_code == 200
    after = [item["playlist_id"] for item in
             api.get(f"/api/playlists/{seed}/similar", params={"k": 100}).json()["items"]]
    assert len(after) == 100 and not set(after) & set(nearest[:10])
    assert after[:90] == nearest[10:]
