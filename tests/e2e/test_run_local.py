"""`make run`'s launcher end to end: an empty model store is trained, the database migrated and
the sample imported, the Bento and the gateway come up on loopback with the UI, a like changes
recommendations, and Ctrl-C stops both."""
from __future__ import annotations

import signal
import time

import httpx
import pytest

from devtools.procs import run_local

pytestmark = pytest.mark.slow  # starts the Bento and the gateway


def test_run_local_trains_serves_and_stops_cleanly(sample_data_dir, tmp_path):
    log_path = tmp_path / "run_local.log"
    launcher, bento = run_local(sample_data_dir, log_path, env={
        "BENTOML_HOME": str(tmp_path / "empty-store"),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'gateway.db'}"})
    gateway = launcher.url
    try:
        deadline = time.monotonic() + 15  # the launcher prints its URLs once it sees /ready too
        while f"Web UI and API: {gateway}/" not in log_path.read_text():
            assert time.monotonic() < deadline, log_path.read_text()[-3000:]
            time.sleep(0.2)
        assert "no playlist_recommender model in the store yet" in log_path.read_text()
        # The schema is migrated and the sample imported by explicit steps, not by the gateway.
        assert "Running upgrade  -> 0001_initial" in log_path.read_text()
        assert f"playlists from {sample_data_dir}" in log_path.read_text()
        page = httpx.get(gateway + "/", timeout=10)
        assert page.status_code == 200 and "<!doctype html>" in page.text.lower()
        direct = httpx.post(f"{bento}/recommend", json={"k": 3}, timeout=10)
        assert direct.status_code == 200 and direct.json()["strategy"] == "popular"

        user = httpx.post(f"{gateway}/api/users", json={"name": "Launcher Test"},
                          timeout=10).json()["id"]
        before = httpx.get(f"{gateway}/api/users/{user}/recommendations?k=5", timeout=10).json()
        assert before["strategy"] == "popular"
        liked = before["items"][-1]["playlist_id"]
        assert httpx.put(f"{gateway}/api/users/{user}/likes/{liked}",
                         timeout=10).status_code == 200
        after = httpx.get(f"{gateway}/api/users/{user}/recommendations?k=5", timeout=10).json()
        assert after["strategy"] == "personalized"
        assert liked not in {item["playlist_id"] for item in after["items"]}
    finally:
        returncode = launcher.stop(signal.SIGINT, timeout=60)
    assert returncode == 0, log_path.read_text()[-3000:]
    for url in (bento, gateway):
        try:
            httpx.get(f"{url}/", timeout=2)
        except httpx.ConnectError:
            continue
        raise AssertionError(f"{url} still answers after Ctrl-C")
