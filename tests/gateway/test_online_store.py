"""Dislikes and the online-metrics SQL against SQLite and a real PostgreSQL."""
from __future__ import annotations

import time

import pytest

from datarules import load_dataset
from gateway.dislikes import disliked_ids, set_dislike, user_dislikes
from gateway.impressions import ImpressionRecorder
from gateway.importer import import_dataset
from gateway.observability import Metrics
from gateway.routers.online import DAY, daily_rates, summarize
from gateway.store import NotFound
from tests import aio


@pytest.fixture
def loaded(store, tiny_data_dir):
    import_dataset(store.engine, load_dataset(tiny_data_dir))
    return store


def test_dislikes_round_trip_and_erase(loaded):
    set_dislike(loaded, "u3", "pl2", True)
    set_dislike(loaded, "u3", "pl2", True)
    set_dislike(loaded, "u3", "pl4", True)
    assert sorted(disliked_ids(loaded, "u3")) == ["pl2", "pl4"]
    assert [d["name"] for d in user_dislikes(loaded, "u3")][-1] in {"Gym Rock", "Café Ünïcode ♫"}
    set_dislike(loaded, "u3", "pl2", False)
    assert disliked_ids(loaded, "u3") == ["pl4"]
    with pytest.raises(NotFound):
        set_dislike(loaded, "u3", "nope", True)
    loaded.erase_user("u3")
    assert disliked_ids(loaded, "u3") == []


def test_rates_per_model_version_arm_and_day(loaded):
    recorder = ImpressionRecorder(loaded, Metrics(), 50, 100, 90)
    now = time.time()
    recorder.record("u3", ["pl1", "pl2"], "m:a", "r1", "champion")
    recorder.record("u1", ["pl2", "pl4"], "m:b", "r2", "challenger")
    recorder.record(None, ["pl5"], "m:a", "r3", "champion")
    aio.run(recorder.flush())  # Playwright may hold the main thread's event loop
    loaded.set_like("u3", "pl2", True)  # within 24 h of its impression
    rows = daily_rates(loaded, now - DAY)
    by_day, arms = summarize(rows)
    today = time.strftime("%Y-%m-%d", time.gmtime(now))
    assert sorted((d["arm"], d["model_version"], d["day"], d["impressions"], d["liked"])
                  for d in by_day) == [("challenger", "m:b", today, 2, 0),
                                       ("champion", "m:a", today, 2, 1)]
    assert [(a["arm"], a["rate"]) for a in arms] == [("challenger", 0.0), ("champion", 0.5)]
    assert daily_rates(loaded, now + 10) == []
