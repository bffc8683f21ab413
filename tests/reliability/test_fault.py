"""The Bento stops and comes back while load runs through the real gateway (our own Bento: the
session's shared one must keep running)."""
from __future__ import annotations

import time

import httpx
import pytest

from devtools.procs import bentoml_serve, free_port, gateway_for
from tests.reliability.background import BackgroundLoad

pytestmark = pytest.mark.slow
LIKED = 100  # of the session's sample data's pl0001..pl0150, so some stay to recommend


def test_bento_outage_under_load_gives_fast_503s_then_recovers_with_no_like_lost(
        bento_home, sample_data_dir, artifacts_dir, tmp_path):
    logs = artifacts_dir / "logs"
    bento_port = free_port()
    bento_log = logs / f"bento-outage-{bento_port}.log"
    bento = bentoml_serve(bento_home, bento_port, bento_log)
    # The like worker writes as fast as it can: a quota out of its way (this is about outages).
    gateway = gateway_for(bento.url, f"sqlite:///{tmp_path}/outage.db", sample_data_dir, logs,
                          WRITE_QUOTA_BURST="1000000")
    api = httpx.Client(base_url=gateway.url, timeout=10)
    user_id = api.post("/api/users", json={"name": "Patient"}).json()["id"]

    def plan(worker: int, n: int) -> tuple[str, str]:
        if worker == 0:  # likes a new playlist every 4th call (idempotent repeats in between)
            return "PUT", f"/api/users/{user_id}/likes/pl{(n // 4) % LIKED + 1:04d}"
        return "GET", f"/api/users/{user_id}/recommendations?k=5"

    try:
        with BackgroundLoad(gateway.url, plan, workers=4) as load:
            time.sleep(1.5)
            bento.stop()
            down = time.monotonic()
            time.sleep(2.0)
            # Browsing and readiness answer from the database alone; the Bento's parts say 503.
            assert api.get("/api/model").status_code == 503
            assert api.get("/api/playlists/pl0003/similar").status_code == 503
            ready = api.get("/ready")
            assert ready.status_code == 503 and ready.json()["checks"]["database"] == "ok"
            assert api.get("/api/playlists", params={"q": "a"}).status_code == 200
            restart = time.monotonic()
            bento = bentoml_serve(bento_home, bento_port, bento_log)
            up = time.monotonic()
            time.sleep(6.0)
        outcomes = load.outcomes

        assert {o.status for o in outcomes} <= {200, 503}, \
            sorted({(o.status, str(o.body)[:80]) for o in outcomes if o.status not in (200, 503)})
        unavailable = [o for o in outcomes if o.status == 503]
        assert unavailable, "the outage was never seen"
        assert all("Bento" in o.body["detail"] for o in unavailable)
        assert max(o.seconds for o in unavailable) < 1.5  # about a second, never a hang

        recs = [o for o in outcomes if o.method == "GET"]
        assert all(o.status == 503 for o in recs if down + 0.2 < o.sent < restart)
        first_ok = min(o.answered for o in recs if o.sent >= up and o.status == 200)
        assert first_ok - up < 5.0
        assert all(o.status == 200 for o in recs if o.sent > up + 5.0)

        likes = [o for o in outcomes if o.method == "PUT"]
        assert any(down < o.sent < restart for o in likes)
        assert all(o.status == 200 for o in likes)  # the database path never depended on it
        stored = {p["id"] for p in api.get(f"/api/users/{user_id}/likes").json()["items"]}
        assert stored == {o.path.rsplit("/", 1)[1] for o in likes}
        recommended = api.get(f"/api/users/{user_id}/recommendations").json()
        assert recommended["strategy"] == "personalized"
        assert not stored & {item["playlist_id"] for item in recommended["items"]}
    finally:
        api.close()
        gateway.stop()
        bento.stop()
