"""An overloaded Bento (a real `bentoml serve` at its max_concurrency, which BentoML answers
with 429) is a 503 with Retry-After from the gateway, counted, and /ready says so."""
from __future__ import annotations

import socket
import time
from contextlib import ExitStack
from urllib.parse import urlsplit

import httpx
import pytest

from devtools.procs import bentoml_serve, free_port, gateway_for
from gateway.bento_client import OVERLOAD_STREAK

pytestmark = pytest.mark.slow
MAX_CONCURRENCY = 2
# BentoML's own settings for this service, so holding MAX_CONCURRENCY requests fills it and
# its timeout does not free them while the test runs.
SMALL_BENTO = {"BENTOML_CONFIG_OPTIONS": (
    f"services.playlist_recommender.traffic.max_concurrency={MAX_CONCURRENCY} "
    "services.playlist_recommender.traffic.timeout=120")}


@pytest.fixture(scope="module")
def small_bento(bento_home, artifacts_dir):
    port = free_port()
    server = bentoml_serve(bento_home, port, artifacts_dir / "logs" / f"bento-small-{port}.log",
                           env=SMALL_BENTO)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def gateway(small_bento, sample_data_dir, artifacts_dir, tmp_path_factory):
    database = tmp_path_factory.mktemp("overload-db") / "gateway.db"
    server = gateway_for(small_bento.url, f"sqlite:///{database}", sample_data_dir,
                         artifacts_dir / "logs", LOG_LEVEL="warning", BENTO_TIMEOUT_SECONDS="5")
    yield server
    server.stop()


def stalled_recommend(url: str) -> socket.socket:
    """A request the Bento holds a slot for: its body never arrives."""
    parts = urlsplit(url)
    sock = socket.create_connection((parts.hostname, parts.port))
    sock.sendall(b"POST /recommend HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                 b"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"hi")
    return sock


def answers_again(client: httpx.Client, path: str, tries: int = 100) -> int:
    """The status once the Bento has let go of the held requests (it notices the closed
    sockets on its own time)."""
    for _ in range(tries):
        status = client.get(path).status_code
        if status != 503:
            return status
        time.sleep(0.1)
    return status


def test_an_overloaded_bento_is_a_503_with_retry_after_and_not_ready(small_bento, gateway):
    popular = "/api/recommendations/popular"
    with httpx.Client(base_url=gateway.url, timeout=30) as client:
        assert client.get(popular).status_code == 200
        with ExitStack() as stack:
            for _ in range(MAX_CONCURRENCY):
                stack.enter_context(stalled_recommend(small_bento.url))
            direct = httpx.post(small_bento.url + "/recommend", json={"history": [], "k": 3},
                                timeout=30)
            assert direct.status_code == 429  # what BentoML answers at max_concurrency
            for _ in range(OVERLOAD_STREAK):
                response = client.get(popular)
                assert response.status_code == 503, response.text
                assert response.headers["retry-after"] == "1"
                assert "overloaded" in response.json()["detail"]
            assert client.get("/api/playlists/pl0001/similar").status_code == 503
            metrics = client.get("/metrics").text
            assert 'gateway_upstream_errors_total{endpoint="recommend",kind="overloaded"} ' \
                f'{OVERLOAD_STREAK}.0' in metrics
            ready = client.get("/ready")
            assert ready.status_code == 503
            assert ready.json()["checks"]["bento"].startswith("unavailable: overloaded")
            assert client.get("/ready?scope=database").status_code == 200
        assert answers_again(client, popular) == 200
        assert client.get("/ready").status_code == 200
