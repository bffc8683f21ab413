"""Impressions, online metrics and the champion/challenger split (fake Bentos; two real ones in
tests/gateway/test_challenger_integration.py)."""
from __future__ import annotations

import time

import httpx
import pytest
from sqlalchemy import select, update

from gateway.impressions import ImpressionRecorder
from gateway.routers.online import wilson
from gateway.serving import bucket
from gateway.store import make_engine
from gateway.tables import impressions, likes, split_ids
from tests.gateway.conftest import FakeBento, as_transport

DEMO = {"X-Demo-User": "u3"}


def rows(client) -> list[dict]:
    """The written impressions, one dict per item shown (a row holds one answer's items)."""
    engine = make_engine(client.app.state.settings.sqlalchemy_url)
    try:
        with engine.connect() as conn:
            answers = conn.execute(select(impressions).order_by(impressions.c.id)).mappings()
            found = []
            for answer in answers:
                playlist_ids = split_ids(answer["playlist_ids"])
                assert answer["item_count"] == len(playlist_ids)
                found.extend({**answer, "playlist_id": playlist_id, "position": position}
                             for position, playlist_id in enumerate(playlist_ids))
            return found
    finally:
        engine.dispose()


def wait_for_rows(client, count: int, done=None) -> list[dict]:
    """The written impressions once `count` are there (and `done(rows)` holds, if given): the
    flusher writes in batches, so a first batch may hold only part of what was shown."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        found = rows(client)
        if len(found) >= count and (done is None or done(found)):
            return found
        time.sleep(0.05)
    raise AssertionError(f"only {len(found)} impressions written: {found[:5]}")


def test_what_was_shown_is_written_in_a_batch(make_client):
    client = make_client(impressions_flush_ms=50)
    answer = client.get("/api/me/recommendations", headers={**DEMO, "X-Request-ID": "req-1"},
                        params={"k": 3})
    shown = [item["playlist_id"] for item in answer.json()["items"]]
    written = wait_for_rows(client, 3)
    assert [(r["user_id"], r["playlist_id"], r["position"], r["model_version"],
             r["request_id"], r["arm"]) for r in written] == [
        ("u3", pid, position, "playlist_recommender:fake", "req-1", "champion")
        for position, pid in enumerate(shown)]
    assert abs(written[0]["shown_at"] - time.time()) < 30
    metrics = client.get("/metrics").text
    assert 'gateway_impressions_total{arm="champion",model_version="playlist_recommender:fake"}' \
        ' 3.0' in metrics


def test_one_row_per_answer_with_unique_ids_that_ascend_with_the_time_shown():
    """Time first, so a batch appends to the primary key's index (docs/ARCHITECTURE.md)."""
    answers = [("u1", ["p1", "p2"], "m", "r1", "champion", 1_700_000_000.25),
               ("u2", ["p1"], "m", "r2", "champion", 1_700_000_000.5),
               ("u1", ["p3", "p1"], "m", "r3", "champion", 1_700_000_001.0)] * 50
    answers.sort(key=lambda answer: answer[5])
    written = ImpressionRecorder.rows(answers)
    ids = [row["id"] for row in written]
    assert all(len(row_id) == 29 for row_id in ids) and len(set(ids)) == len(ids) == 150
    assert [row_id[:14] for row_id in ids] == sorted(row_id[:14] for row_id in ids)
    assert ids[0][:14] == f"{1_700_000_000_250_000:014x}"
    assert (written[0]["playlist_ids"], written[0]["item_count"]) == ("p1\np2", 2)
    assert (written[-1]["playlist_ids"], written[-1]["item_count"]) == ("p3\np1", 2)


def test_a_like_counts_only_for_answers_that_held_that_playlist(make_client):
    """Ids sharing a prefix or a suffix are different playlists: no substring matching."""
    client = make_client(impressions_flush_ms=50)
    recorder = client.app.state.serving.recorder
    recorder.record("u3", ["pl1", "pl4x"], "m:a", "r1", "champion")
    recorder.record("u3", ["xpl4"], "m:b", "r2", "champion")
    wait_for_rows(client, 3)
    client.put("/api/me/likes/pl4", headers=DEMO)
    assert "gateway_feedback_total{" not in client.get("/metrics").text
    assert [day["liked"] for day in client.get("/api/metrics/online").json()["by_day"]] == [0, 0]


def test_a_like_after_an_impression_is_feedback_and_the_rate_is_computed(make_client):
    client = make_client(impressions_flush_ms=50)
    client.get("/api/me/recommendations", headers=DEMO, params={"k": 4})
    wait_for_rows(client, 4)
    for _ in range(2):  # the second PUT changes nothing and counts nothing
        assert client.put("/api/me/likes/pl4", headers=DEMO).status_code == 200
    metrics = client.get("/metrics").text
    assert 'gateway_feedback_total{arm="champion",model_version="playlist_recommender:fake"}' \
        ' 1.0' in metrics
    online = client.get("/api/metrics/online").json()
    assert online["feedback_window_hours"] == 24
    [day] = online["by_day"]
    assert (day["impressions"], day["liked"], day["rate"]) == (4, 1, 0.25)
    assert day["day"] == time.strftime("%Y-%m-%d", time.gmtime())
    [arm] = online["arms"]
    assert arm["arm"] == "champion" and (arm["impressions"], arm["liked"]) == (4, 1)
    assert arm["ci_low"] < 0.25 < arm["ci_high"]


def test_a_like_after_24_hours_is_not_feedback(make_client):
    client = make_client(impressions_flush_ms=50)
    client.get("/api/me/recommendations", headers=DEMO, params={"k": 2})
    wait_for_rows(client, 2)
    client.put("/api/me/likes/pl2", headers=DEMO)
    engine = make_engine(client.app.state.settings.sqlalchemy_url)
    with engine.begin() as conn:
        conn.execute(update(likes).where(likes.c.user_id == "u3")
                     .values(liked_at=time.time() + 25 * 3600))
    engine.dispose()
    assert client.get("/api/metrics/online").json()["by_day"][0]["liked"] == 0


def test_anonymous_impressions_are_counted_but_never_written(make_client):
    client = make_client(impressions_flush_ms=50)
    client.get("/api/recommendations/popular", params={"k": 2})
    client.get("/api/me/recommendations", headers=DEMO, params={"k": 1})
    assert [r["user_id"] for r in wait_for_rows(client, 1)] == ["u3"]
    assert 'gateway_impressions_total{arm="champion",model_version="playlist_recommender:fake"}' \
        ' 3.0' in client.get("/metrics").text


def test_disabled_records_nothing(make_client):
    client = make_client(impressions_enabled=False)
    assert client.get("/api/me/recommendations", headers=DEMO).status_code == 200
    assert client.put("/api/me/likes/pl4", headers=DEMO).status_code == 200
    time.sleep(0.3)
    assert rows(client) == [] and "gateway_impressions_total{" not in client.get("/metrics").text


def test_shutdown_flushes_what_is_buffered(make_client):
    client = make_client(impressions_flush_ms=60_000, impressions_batch_rows=1000)
    client.get("/api/me/recommendations", headers=DEMO, params={"k": 3})
    assert rows(client) == []  # still in the buffer
    client.__exit__(None, None, None)
    assert len(rows(client)) == 3


def test_old_impressions_are_pruned_and_erasing_a_listener_deletes_theirs(make_client):
    client = make_client(impressions_flush_ms=50, impressions_retention_days=1)
    client.get("/api/me/recommendations", headers=DEMO, params={"k": 2})
    client.get("/api/me/recommendations", headers={"X-Demo-User": "u1"}, params={"k": 2})
    wait_for_rows(client, 4)
    recorder = client.app.state.serving.recorder
    engine = make_engine(client.app.state.settings.sqlalchemy_url)
    with engine.begin() as conn:
        conn.execute(update(impressions).where(impressions.c.user_id == "u1")
                     .values(shown_at=time.time() - 2 * 86400))
    engine.dispose()
    assert recorder.prune() == 1  # one answer of two items
    assert {r["user_id"] for r in rows(client)} == {"u3"}
    assert client.delete("/api/me", headers=DEMO).status_code == 200
    assert rows(client) == []


def test_a_full_buffer_drops_and_counts_instead_of_waiting(make_client):
    client = make_client(impressions_flush_ms=60_000, impressions_batch_rows=1000)
    recorder = client.app.state.serving.recorder
    recorder.max_buffered = 2
    client.get("/api/me/recommendations", headers=DEMO, params={"k": 3})
    assert recorder.buffer == [] and recorder.buffered_items == 0
    assert "gateway_impressions_dropped_total 3.0" in client.get("/metrics").text


def test_wilson_interval():
    assert wilson(0, 0) == (0.0, 0.0)
    low, high = wilson(10, 100)
    assert round(low, 4) == 0.0552 and round(high, 4) == 0.1744  # the textbook values
    assert wilson(0, 10)[0] == 0.0 and wilson(10, 10)[1] == pytest.approx(1.0)


def test_the_split_is_deterministic_by_listener_and_arms_are_reported(make_client, fake_bento):
    challenger = FakeBento()
    original = challenger.__call__

    def answer_as_challenger(request: httpx.Request) -> httpx.Response:
        response = original(request)
        if request.url.path == "/recommend":
            body = response.json()
            body["model"] = "playlist_recommender:challenger"
            return httpx.Response(200, json=body)
        return response

    from gateway.main import create_app
    from fastapi.testclient import TestClient
    make_client()  # migrates and imports the tiny dataset
    settings = make_client().app.state.settings.model_copy(
        update={"challenger_percent": 50.0, "impressions_flush_ms": 50})
    with TestClient(create_app(settings, as_transport(fake_bento),
                               as_transport(answer_as_challenger))) as client:
        arms = {}
        for user in ("u1", "u2", "u3"):
            models = {client.get("/api/me/recommendations", headers={"X-Demo-User": user})
                      .json()["model"] for _ in range(3)}
            assert len(models) == 1  # one arm per listener, every time
            arms[user] = models.pop()
        expected = {user: "playlist_recommender:challenger" if bucket(user) < 50
                    else "playlist_recommender:fake" for user in arms}
        assert arms == expected and len(set(expected.values())) == 2, expected
        served = {(user, "challenger" if bucket(user) < 50 else "champion") for user in arms}
        written = wait_for_rows(client, 1, lambda found: {
            (r["user_id"], r["arm"]) for r in found} >= served)
        assert {(r["user_id"], r["arm"]) for r in written} == served
        assert {a["arm"] for a in client.get("/api/metrics/online").json()["arms"]} == {
            "champion", "challenger"}


@pytest.mark.parametrize("params", [{"days": 0}, {"days": 367}, {"days": "x"}])
def test_bad_online_metric_windows_are_422(client, params):
    assert client.get("/api/metrics/online", params=params).status_code == 422
