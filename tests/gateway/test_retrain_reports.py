"""The retrain verdicts table (gateway/retrain_report.py) on SQLite and PostgreSQL: the job's
row for each outcome, the newest one as /api/model's `last_retrain`, and a database that does
not answer costing the Model page that section only."""
from __future__ import annotations

import time

from sqlalchemy import text

from gateway.retrain_report import latest, record, report_row

PROMOTED = {"decision": "promoted", "accepted": True, "reasons": [],
            "notes": ["no champion: the first model"], "finished_at": "2026-12-08T03:40:00+00:00",
            "candidate": {"tag": "playlist_recommender:abc", "registry_version": "3",
                          "run_id": "r3", "recall@10": 0.31, "p99_ms": float("nan")},
            "champion": {"registry_version": "1", "recall@10": 0.25},
            "promotion": {"alias": "champion", "promoted_at": "2026-12-08T03:41:00+00:00"}}
REJECTED = {"decision": "rejected", "accepted": False, "reasons": ["recall@10 0.2 < 0.25"],
            "notes": [], "candidate": {"registry_version": "4", "recall@10": 0.2},
            "champion": {"registry_version": "3", "recall@10": 0.25}}


def test_each_outcome_is_one_row_and_the_newest_is_the_last_retrain(store):
    assert latest(store.engine) is None  # no retrain yet
    record(store.engine, PROMOTED, 0)
    shown = latest(store.engine)
    assert shown == {"version": "3", "aliases": ["challenger", "champion"],
                     "promoted_at": "2026-12-08T03:41:00+00:00", "decision": "promoted",
                     "accepted": True, "exit_code": 0, "reasons": [],
                     "notes": ["no champion: the first model"],
                     "finished_at": "2026-12-08T03:40:00+00:00", "error": None,
                     "candidate": {**PROMOTED["candidate"], "p99_ms": None},  # NaN: not JSON
                     "champion": PROMOTED["champion"]}
    time.sleep(0.01)
    record(store.engine, REJECTED, 0)
    assert latest(store.engine)["decision"] == "rejected"
    assert latest(store.engine)["aliases"] == ["challenger"]
    time.sleep(0.01)
    record(store.engine, {"decision": "error", "error": "OperationalError: MLflow is down"}, 1)
    failed = latest(store.engine)
    assert (failed["version"], failed["error"], failed["exit_code"]) == (
        None, "OperationalError: MLflow is down", 1)
    with store.engine.connect() as conn:
        rows = conn.execute(text("SELECT decision, accepted, exit_code, candidate_version, "
                                 "run_id, champion_version FROM retrain_reports "
                                 "ORDER BY finished_at")).all()
    assert [tuple(row) for row in rows] == [("promoted", True, 0, "3", "r3", "1"),
                                            ("rejected", False, 0, "4", None, "3"),
                                            ("error", False, 1, None, None, None)]


def test_a_failed_promotion_is_accepted_but_not_promoted():
    row = report_row({"decision": "error", "accepted": True, "error": "promotion failed: x",
                      "candidate": {"registry_version": "5"}}, 1)
    assert (row["decision"], row["accepted"], row["summary"]["aliases"]) == (
        "error", True, ["challenger"])


def test_api_model_shows_the_newest_verdict(make_client):
    client = make_client()
    assert client.get("/api/model").json()["last_retrain"] is None
    store = client.app.state.store
    record(store.engine, REJECTED, 0)
    body = client.get("/api/model").json()
    assert body["tag"] == "playlist_recommender:fake"  # the Bento's model_info, as before
    assert body["last_retrain"]["decision"] == "rejected"
    assert body["last_retrain"]["version"] == "4"
    assert body["last_retrain"]["reasons"] == REJECTED["reasons"]


def test_api_model_answers_when_the_verdicts_cannot_be_read(make_client, capfd):
    client = make_client()
    with client.app.state.store.engine.begin() as conn:
        conn.execute(text("DROP TABLE retrain_reports"))  # the read fails like an outage
    body = client.get("/api/model").json()
    assert body["tag"] == "playlist_recommender:fake" and body["last_retrain"] is None
    assert "the database did not answer for the last retrain" in capfd.readouterr().err
