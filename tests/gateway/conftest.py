"""Gateway fixtures: a tiny hand-made dataset, a fake Bento transport, a real PostgreSQL."""
from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from alembic import command
from alembic.config import Config
from fastapi.testclient import TestClient
from sqlalchemy import text

from datarules import Playlist, load_dataset, write_dataset
from gateway.bento_client import UpstreamTimeout, UpstreamUnreachable
from gateway.importer import import_dataset
from gateway.main import create_app
from gateway.settings import Settings
from gateway.store import Store, make_engine
from devtools.procs import REPO_ROOT

TINY_PLAYLISTS = [
    Playlist("pl1", "Morning Jazz", "soft jazz for 100% mornings", ["jazz", "chill"], 12),
    Playlist("pl2", "Gym Rock", "loud_rock", ["rock", "workout"], 30),
    Playlist("pl3", "Night Jazz", "late jazz", ["jazz"], 8),
    Playlist("pl4", "Café Ünïcode ♫", "", ["world"], None),
    Playlist("pl5", "Lonely", "nobody likes it", [], 1),
]
TINY_USERS = {"u1": "Ada", "u2": "Ben", "u3": "Cleo"}
TINY_LIKES = [("u1", "pl1", 2.0, 1_700_000_000.0), ("u1", "pl3", 1.0, 1_700_000_100.0),
              ("u2", "pl2", 1.0, None), ("u2", "pl1", 1.0, None)]


def alembic_config(database_url: str) -> Config:
    """The repo's alembic.ini pointed at `database_url` (what `alembic upgrade head` runs)."""
    config = Config(str(REPO_ROOT / "alembic.ini"))
    url = Settings(database_url=database_url).sqlalchemy_url
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    config.attributes["configure_logger"] = False
    return config


def migrate(database_url: str) -> None:
    command.upgrade(alembic_config(database_url), "head")


def migrate_and_import(database_url: str, data_dir: Path) -> None:
    """What `alembic upgrade head` + `python -m gateway.importer DIR` do, in-process."""
    migrate(database_url)
    engine = make_engine(Settings(database_url=database_url).sqlalchemy_url)
    try:
        import_dataset(engine, load_dataset(data_dir))
    finally:
        engine.dispose()


@pytest.fixture
def tiny_data_dir(tmp_path: Path) -> Path:
    """Five playlists, three users (u3 has no likes), four likes."""
    write_dataset(tmp_path / "data", TINY_USERS, TINY_PLAYLISTS, TINY_LIKES)
    return tmp_path / "data"


# What the fake model was "trained" on: pl9 is missing from the catalogue, new playlists from it.
FAKE_MODEL_ITEMS = {"pl1", "pl2", "pl3", "pl4", "pl5", "pl9"}


class FakeBento:
    """A stand-in for the Bento's HTTP API that records what the gateway sent."""

    def __init__(self):
        self.requests: list[httpx.Request] = []
        self.failure: Exception | httpx.Response | None = None

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if isinstance(self.failure, Exception):
            raise self.failure
        if self.failure is not None:
            return self.failure
        path = request.url.path
        if path == "/readyz":
            return httpx.Response(200, text="ok")
        body = json.loads(request.content or b"{}")
        if path == "/recommend":
            history, exclude = body["history"], body.get("exclude", [])
            wanted, unwanted = set(body.get("tags", [])), set(body.get("exclude_tags", []))
            tags = {p.id: set(p.tags) for p in TINY_PLAYLISTS}
            items = [{"playlist_id": pid, "score": 1.0 / rank, "because": history[:1]}
                     for rank, pid in enumerate(["pl2", "pl4", "pl1", "pl3", "pl9"], 1)
                     if pid not in history and pid not in exclude
                     and (not wanted or tags.get(pid, set()) & wanted)
                     and not tags.get(pid, set()) & unwanted][:body["k"]]
            known = [pid for pid in history if pid in FAKE_MODEL_ITEMS]
            return httpx.Response(200, json={
                "items": items, "strategy": "personalized" if known else "popular",
                "unknown": [pid for pid in history if pid not in FAKE_MODEL_ITEMS],
                "model": "playlist_recommender:fake"})
        if path == "/similar":
            if body["playlist_id"] == "pl5":
                return httpx.Response(404, json={"detail": "unknown playlist 'pl5'"})
            return httpx.Response(200, json={"playlist_id": body["playlist_id"], "model": "m:1",
                                             "items": [{"playlist_id": "pl3", "score": 0.5,
                                                        "because": []}]})
        if path == "/model_info":
            return httpx.Response(200, json={"tag": "playlist_recommender:fake",
                                             "algorithm": "ease"})
        return httpx.Response(404, json={"error": "no such route"})


def as_transport(handler):
    """The gateway's transport interface over an httpx-style handler, so fakes are written with
    httpx.Request/Response and raise httpx's errors, mapped as the real aiohttp transport maps
    its own."""
    async def send(method: str, path: str, body: bytes | None, headers: dict[str, str]):
        request = httpx.Request(method, "http://bento" + path, content=body, headers=headers)
        try:
            response = handler(request)
        except httpx.TimeoutException as err:
            raise UpstreamTimeout(str(err)) from None
        except httpx.HTTPError as err:
            raise UpstreamUnreachable(str(err)) from None
        return response.status_code, response.content
    return send


@pytest.fixture
def fake_bento() -> FakeBento:
    return FakeBento()


@pytest.fixture
def make_client(tmp_path: Path, tiny_data_dir: Path, fake_bento: FakeBento):
    """Build a TestClient (lifespan running) for the gateway with settings overrides."""
    clients = []

    def build(peer: str = "testclient", **overrides) -> TestClient:
        """`peer`: the client address the app sees (auth trusts proxies by address)."""
        settings = Settings(**{"database_url": f"sqlite:///{tmp_path}/gateway.db", **overrides})
        if not clients:
            migrate_and_import(settings.database_url, tiny_data_dir)
        client = TestClient(create_app(settings, as_transport(fake_bento)), client=(peer, 50000))
        clients.append(client.__enter__())
        return client

    yield build
    for client in clients:
        client.__exit__(None, None, None)


@pytest.fixture
def client(make_client) -> TestClient:
    return make_client()


# -- the store tests run on SQLite and on the real PostgreSQL of tests/conftest.py ----------

@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path: Path) -> str:
    """Each store test runs on SQLite and on a real PostgreSQL (fresh schema each time)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/store.db"
    url = request.getfixturevalue("postgres_url")
    engine = make_engine(Settings(database_url=url).sqlalchemy_url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    engine.dispose()
    return url


@pytest.fixture
def store(database_url: str):
    engine = make_engine(Settings(database_url=database_url).sqlalchemy_url)
    migrate(database_url)
    store = Store(engine)
    yield store
    engine.dispose()
