"""The real chain for browser tests: `bentoml serve` -> uvicorn gateway -> nginx (our own conf).

The dataset is the session's sample data plus one hostile playlist, so the XSS check runs
through the same processes as everything else.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from bento.recsys.dataio import Playlist, load_dataset, write_dataset
from devtools.browser import launch_args
from devtools.nginx_proc import Nginx, start_nginx
from devtools.procs import Server, free_port, gateway_for, prepare_database, uvicorn_gateway
from frontend.build import build

HOSTILE_ID = "pl-hostile"
HOSTILE_NAME = "<img src=x onerror=alert(1)>"
HOSTILE_DESCRIPTION = '<script>alert("description")</script> & friends'
HOSTILE_FANS = ["u00597", "u00598", "u00599"]


@dataclass
class Chain:
    """One running bento -> gateway -> nginx chain; tests talk to `url` (nginx)."""

    gateway: Server
    nginx: Nginx
    database_url: str

    @property
    def url(self) -> str:
        return self.nginx.url

    def stop(self) -> None:
        self.nginx.stop()
        self.gateway.stop()


def start_chain(bento_url: str, data_dir: Path, work_dir: Path, logs_dir: Path) -> Chain:
    """A gateway with its own SQLite file behind a freshly rendered nginx."""
    gateway_port, nginx_port = free_port(), free_port()
    database_url = f"sqlite:///{work_dir / 'gateway.db'}"
    prepare_database(database_url, data_dir)
    gateway = uvicorn_gateway(gateway_port, logs_dir / f"gateway-{gateway_port}.log", env={
        "DATABASE_URL": database_url, "BENTO_URL": bento_url})
    try:
        nginx = start_nginx(gateway.url, nginx_port, logs_dir / f"nginx-{nginx_port}.log")
    except BaseException:
        gateway.stop()
        raise
    return Chain(gateway, nginx, database_url)


@pytest.fixture(scope="session")
def ui_data_dir(sample_data_dir, tmp_path_factory) -> Path:
    """The sample data plus a playlist whose name and description are HTML, liked by a few."""
    dataset = load_dataset(sample_data_dir)
    playlists = [*dataset.playlists.values(),
                 Playlist(HOSTILE_ID, HOSTILE_NAME, HOSTILE_DESCRIPTION, ["<b>bold</b>"], 3)]
    interactions = list(zip(dataset.user_ids, dataset.playlist_ids, dataset.weights,
                            dataset.timestamps))
    interactions += [(user, HOSTILE_ID, 1.0, None) for user in HOSTILE_FANS]
    out = tmp_path_factory.mktemp("ui-data")
    write_dataset(out, dataset.users, playlists, interactions)
    return out


@pytest.fixture(scope="session")
def logs_dir(artifacts_dir) -> Path:
    return artifacts_dir / "logs"


@pytest.fixture(scope="session")
def ui_chain(bento_server, ui_data_dir, tmp_path_factory, logs_dir) -> Chain:
    """The shared chain; tests use distinct listeners so their likes do not collide."""
    chain = start_chain(bento_server.url, ui_data_dir, tmp_path_factory.mktemp("ui-gateway"),
                        logs_dir)
    yield chain
    chain.stop()


@pytest.fixture(scope="session")
def base_url(ui_chain) -> str:
    """pytest-playwright resolves page.goto('/...') against this."""
    return ui_chain.url


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """The system Chromium, never a downloaded one."""
    return launch_args(browser_type_launch_args)


@pytest.fixture(scope="session")
def screenshots_dir(artifacts_dir) -> Path:
    path = artifacts_dir / "screenshots"
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture
def page(page):
    """Every browser test fails on a script error or a CSP violation in the page."""
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.on("console", lambda message: problems.append(f"console: {message.text}")
            if message.type == "error" and "Failed to load resource" not in message.text
            else None)
    page.on("dialog", lambda dialog: (problems.append(f"dialog: {dialog.message}"),
                                      dialog.dismiss()))
    page.set_default_timeout(10_000)
    yield page
    assert not problems, problems


@pytest.fixture(scope="session")
def spa_gateway(bento_server, ui_data_dir, tmp_path_factory, logs_dir) -> Server:
    """A gateway serving the built SPA itself (SPA_DIR), as `make run` runs it."""
    work = tmp_path_factory.mktemp("spa-gateway")
    build(work / "dist")
    server = gateway_for(bento_server.url, f"sqlite:///{work / 'gateway.db'}", ui_data_dir,
                         logs_dir, SPA_DIR=str(work / "dist"))
    yield server
    server.stop()
