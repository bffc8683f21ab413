"""The gateway's metrics on their own port (METRICS_PORT), through the real launcher: Prometheus
reads them there, the API port no longer serves them, and two processes cannot share it."""
import httpx
import pytest

from devtools.procs import free_port, gateway_for

pytestmark = pytest.mark.slow


def test_metrics_move_to_their_own_port(sample_data_dir, tmp_path, artifacts_dir):
    port = free_port()
    gateway = gateway_for("http://127.0.0.1:9", f"sqlite:///{tmp_path / 'g.db'}",
                          sample_data_dir, artifacts_dir / "logs", METRICS_PORT=str(port),
                          METRICS_HOST="127.0.0.1")
    try:
        assert httpx.get(gateway.url + "/api/playlists?limit=1").status_code == 200
        scraped = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5)
        assert scraped.status_code == 200
        assert 'gateway_requests_total{method="GET",route="/api/playlists",status="200"}' \
            in scraped.text
        assert "gateway_impressions_buffered 0.0" in scraped.text
        on_api = httpx.get(gateway.url + "/metrics")
        assert on_api.status_code == 404 and "METRICS_PORT" in on_api.json()["detail"]
        with pytest.raises(Exception, match="METRICS_PORT"):
            gateway_for("http://127.0.0.1:9", f"sqlite:///{tmp_path / 'g.db'}",
                        sample_data_dir, artifacts_dir / "logs", METRICS_PORT=str(port),
                        METRICS_HOST="127.0.0.1")
    finally:
        gateway.stop()


def test_without_metrics_port_the_api_port_serves_them(sample_data_dir, tmp_path,
                                                       artifacts_dir):
    gateway = gateway_for("http://127.0.0.1:9", f"sqlite:///{tmp_path / 'g.db'}",
                          sample_data_dir, artifacts_dir / "logs")
    try:
        assert "gateway_requests_total" in httpx.get(gateway.url + "/metrics").text
    finally:
        gateway.stop()
