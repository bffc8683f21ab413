"""Listeners steer their picks: tag filters and "not for me" (fake Bento; real ones in
tests/gateway/test_steering_integration.py)."""
from __future__ import annotations

import json

import pytest

DEMO = {"X-Demo-User": "u1"}


def ids(answer) -> list[str]:
    return [item["playlist_id"] for item in answer.json()["items"]]


def sent(fake_bento) -> dict:
    return json.loads(fake_bento.requests[-1].content)


def test_tag_filters_reach_the_bento_normalized(client, fake_bento):
    answer = client.get("/api/me/recommendations", headers=DEMO,
                        params={"tags": [" Jazz", "world"], "exclude_tags": ["CHILL"]})
    assert answer.status_code == 200, answer.text
    assert sent(fake_bento)["tags"] == ["jazz", "world"]
    assert sent(fake_bento)["exclude_tags"] == ["chill"]
    assert ids(answer) == ["pl4"]  # pl1 (jazz) is chill, pl3 (jazz) is liked already


@pytest.mark.parametrize("path", ["/api/users/u3/recommendations",
                                  "/api/recommendations/popular"])
def test_every_recommendations_route_filters(client, fake_bento, path):
    answer = client.get(path, params={"tags": "jazz"})
    assert ids(answer) == ["pl1", "pl3"] and sent(fake_bento)["tags"] == ["jazz"]
    answer = client.get(path, params={"exclude_tags": ["jazz", "rock"]})
    assert ids(answer) == ["pl4", "pl9"]


def test_the_gateway_applies_the_current_tags_too(client, fake_bento):
    # pl2 was rock when the model was trained; an admin made it jazz since.
    assert client.patch("/api/playlists/pl2", json={"tags": ["jazz"]}).status_code == 200
    answer = client.get("/api/users/u3/recommendations", params={"exclude_tags": "jazz"})
    assert "pl2" not in ids(answer)


@pytest.mark.parametrize("params", [{"tags": "a|b"}, {"tags": ""},
                                    {"exclude_tags": ["x"] * 51}, {"tags": "x" * 201}])
def test_bad_tag_filters_are_422(client, params):
    answer = client.get("/api/recommendations/popular", params=params)
    assert answer.status_code == 422 and answer.json()["detail"]


def test_not_for_me_is_gone_at_once_and_back_after_undo(client, fake_bento):
    before = ids(client.get("/api/me/recommendations", headers=DEMO))
    assert before[0] == "pl2"
    for _ in range(2):  # idempotent
        put = client.put("/api/me/dislikes/pl2", headers=DEMO)
        assert put.json() == {"user_id": "u1", "playlist_id": "pl2", "disliked": True}
    after = client.get("/api/me/recommendations", headers=DEMO)
    assert "pl2" not in ids(after) and "pl2" in sent(fake_bento)["exclude"]
    listed = client.get("/api/me/dislikes", headers=DEMO).json()
    assert listed["total"] == 1 and listed["items"][0]["playlist_id"] == "pl2"
    assert listed["items"][0]["name"] == "Gym Rock"
    # u2 is not affected, and a dislike is no unlike: pl2's like count is unchanged
    assert "pl2" in ids(client.get("/api/users/u3/recommendations"))
    assert client.get("/api/playlists/pl2").json()["like_count"] == 1
    assert client.delete("/api/me/dislikes/pl2", headers=DEMO).json()["disliked"] is False
    assert ids(client.get("/api/me/recommendations", headers=DEMO)) == before
    assert client.get("/api/me/dislikes", headers=DEMO).json()["total"] == 0


def test_dislikes_are_audited_404_for_unknown_playlists_and_erased_with_the_listener(
        client, caplog):
    assert client.put("/api/me/dislikes/nope", headers=DEMO).status_code == 404
    assert client.put("/api/me/dislikes/pl2", headers=DEMO).status_code == 200
    assert [(r.action, r.actor, r.playlist_id) for r in caplog.records
            if getattr(r, "action", None) == "dislike"] == [("dislike", "u1", "pl2")]
    assert client.delete("/api/me", headers=DEMO).status_code == 200
    # a new listener of the same id starts with no dislikes
    assert client.get("/api/me/dislikes", headers=DEMO).json()["total"] == 0


def test_dislike_writes_count_against_the_write_quota(make_client):
    client = make_client(write_quota_burst=1, write_quota_per_minute=0.001)
    assert client.put("/api/me/dislikes/pl2", headers=DEMO).status_code == 200
    assert client.delete("/api/me/dislikes/pl2", headers=DEMO).status_code == 429
