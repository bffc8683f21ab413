"""Champion and challenger on live traffic: two real `bentoml serve` processes serving different
models (popularity vs itemknn) behind one real gateway; the split, per-arm impressions and
per-arm rates."""
from __future__ import annotations

import re
import time

import httpx
import pytest

from devtools.procs import bentoml_serve, free_port, gateway_for
from gateway.serving import bucket
from tests.conftest import run_module

pytestmark = pytest.mark.slow
PERCENT = 50
K = 5


@pytest.fixture(scope="module")
def two_models(sample_data_dir, tmp_path_factory):
    """Its own BENTOML_HOME, so the session's `playlist_recommender:latest` stays as it was."""
    home = tmp_path_factory.mktemp("bentoml-home-ab")
    env = {"BENTOML_HOME": str(home)}
    tags = [run_module("bento.train", "--data", str(sample_data_dir), "--algorithm", algorithm,
                       "--no-eval", env=env).stdout.strip().splitlines()[-1]
            for algorithm in ("popularity", "itemknn")]
    return home, tags


@pytest.fixture(scope="module")
def gateway(two_models, sample_data_dir, artifacts_dir, tmp_path_factory):
    home, (champion_tag, challenger_tag) = two_models
    logs = artifacts_dir / "logs"
    servers = []
    try:
        for tag in (champion_tag, challenger_tag):
            port = free_port()
            servers.append(bentoml_serve(home, port, logs / f"bento-ab-{port}.log",
                                         env={"RECOMMENDER_MODEL": tag}))
        database = tmp_path_factory.mktemp("ab-db") / "gateway.db"
        servers.append(gateway_for(servers[0].url, f"sqlite:///{database}", sample_data_dir,
                                   logs, CHALLENGER_URL=servers[1].url,
                                   CHALLENGER_PERCENT=str(PERCENT), IMPRESSIONS_FLUSH_MS="100"))
        yield servers[-1], champion_tag, challenger_tag
    finally:
        for server in reversed(servers):
            server.stop()


def counter(metrics: str, name: str, arm: str) -> float:
    found = re.findall(rf'^{name}{{arm="{arm}",model_version="[^"]+"}} ([0-9.e+]+)$', metrics,
                       re.MULTILINE)
    return sum(float(value) for value in found)


def test_split_impressions_and_rates_per_arm(gateway):
    server, champion_tag, challenger_tag = gateway
    api = httpx.Client(base_url=server.url, timeout=10)
    users = [u["id"] for u in api.get("/api/users", params={"limit": 40}).json()["items"]]
    arms = {"champion": [], "challenger": []}
    # Each listener as themselves (X-Demo-User): anonymous answers write no impressions, and
    # every listener has a write quota of their own.
    for user in users:
        me = {"X-Demo-User": user}
        answer = api.get(f"/api/users/{user}/recommendations", params={"k": K},
                         headers=me).json()
        arm = "challenger" if bucket(user) < PERCENT else "champion"
        assert answer["model"] == (challenger_tag if arm == "challenger" else champion_tag)
        again = api.get(f"/api/users/{user}/recommendations", params={"k": K},
                        headers=me).json()
        assert again["model"] == answer["model"]  # the same arm every time
        arms[arm].append((user, [item["playlist_id"] for item in answer["items"]]))
    assert len(arms["champion"]) >= 10 and len(arms["challenger"]) >= 10
    # Champion listeners like 1 of what they were shown, challenger listeners 2.
    for arm, liked_per_listener in (("champion", 1), ("challenger", 2)):
        for user, shown in arms[arm]:
            for playlist_id in shown[:liked_per_listener]:
                assert api.put(f"/api/users/{user}/likes/{playlist_id}",
                               headers={"X-Demo-User": user}).status_code == 200

    expected = {arm: 2 * K * len(listeners) for arm, listeners in arms.items()}
    deadline = time.monotonic() + 20
    while True:
        online = api.get("/api/metrics/online").json()
        per_arm = {a["arm"]: a for a in online["arms"]}
        if {arm: per_arm.get(arm, {}).get("impressions") for arm in arms} == expected:
            break
        assert time.monotonic() < deadline, online
        time.sleep(0.2)
    for arm, liked_per_listener in (("champion", 1), ("challenger", 2)):
        row = per_arm[arm]
        assert row["model_version"] == (champion_tag if arm == "champion" else challenger_tag)
        # each listener was shown the liked items twice (two requests): both count as followed
        assert row["liked"] == 2 * liked_per_listener * len(arms[arm])
        assert row["rate"] == pytest.approx(liked_per_listener / K)
        assert row["ci_low"] < row["rate"] < row["ci_high"]
    metrics = api.get("/metrics").text
    for arm, listeners in arms.items():
        assert counter(metrics, "gateway_impressions_total", arm) == expected[arm]
        liked_per_listener = 1 if arm == "champion" else 2
        assert counter(metrics, "gateway_feedback_total", arm) == \
            liked_per_listener * len(listeners)
