"""One gateway (its own SQLite file) over the session's Bento, and nginx in front of it."""
from __future__ import annotations

import pytest

from devtools.nginx_proc import start_nginx
from devtools.procs import free_port, gateway_for
from frontend.build import build


@pytest.fixture(scope="module")
def gateway(bento_server, sample_data_dir, artifacts_dir, tmp_path_factory):
    database = tmp_path_factory.mktemp("reliability-db") / "gateway.db"
    # The hostile cases send dozens of writes from one peer in seconds; the write quota is
    # tested on its own (test_write_budgets.py), so it must not turn a case's 4xx into a 429.
    server = gateway_for(bento_server.url, f"sqlite:///{database}", sample_data_dir,
                         artifacts_dir / "logs", LOG_LEVEL="warning",
                         WRITE_QUOTA_BURST="1000000", ADMIN_WRITE_QUOTA_BURST="1000000")
    yield server
    server.stop()


@pytest.fixture(scope="module")
def nginx(gateway, artifacts_dir):
    port = free_port()
    proxy = start_nginx(gateway.url, port, artifacts_dir / "logs" / f"nginx-rel-{port}.log")
    yield proxy
    proxy.stop()


@pytest.fixture(scope="module")
def spa_gateway(bento_server, sample_data_dir, artifacts_dir, tmp_path_factory):
    """A gateway serving the built SPA itself (SPA_DIR), as `make run` runs it."""
    work = tmp_path_factory.mktemp("reliability-spa")
    build(work / "dist")
    server = gateway_for(bento_server.url, f"sqlite:///{work / 'gateway.db'}", sample_data_dir,
                         artifacts_dir / "logs", LOG_LEVEL="warning", SPA_DIR=str(work / "dist"))
    yield server
    server.stop()
