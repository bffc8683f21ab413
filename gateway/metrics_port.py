"""The gateway's /metrics on a port of its own (METRICS_PORT), so the scrape NetworkPolicy opens
that port to Prometheus and never the API port, where identity headers are believed from
AUTH_TRUSTED_PROXIES. 0 (make run, compose): /metrics stays on the API port.

prometheus_client's own threaded WSGI server serves it: nothing of the app (no identity, no
database) is reachable through it."""
from __future__ import annotations

from contextlib import contextmanager

from prometheus_client import CollectorRegistry, start_http_server


@contextmanager
def metrics_server(registry: CollectorRegistry, host: str, port: int):
    """Serve `registry` on host:port for the duration (nothing when port is 0)."""
    if not port:
        yield None
        return
    try:
        server, thread = start_http_server(port, addr=host, registry=registry)
    except OSError as err:
        raise RuntimeError(f"METRICS_PORT {port} on {host}: {err} (one gateway process per "
                           "metrics port: run it with --workers 1)") from err
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
