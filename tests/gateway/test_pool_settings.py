"""DATABASE_POOL_SIZE / DATABASE_MAX_OVERFLOW bound the gateway's PostgreSQL connections per
replica: the connection budget in the README depends on it."""
import threading

import pytest
from pydantic import ValidationError
from sqlalchemy import text

from gateway.settings import Settings
from gateway.store import make_engine


def test_pool_settings_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("DATABASE_POOL_SIZE", "4")
    monkeypatch.setenv("DATABASE_MAX_OVERFLOW", "3")
    settings = Settings()
    assert (settings.database_pool_size, settings.database_max_overflow) == (4, 3)


@pytest.mark.parametrize("name, value", [("DATABASE_POOL_SIZE", "0"),
                                         ("DATABASE_MAX_OVERFLOW", "-1"),
                                         ("DATABASE_POOL_SIZE", "many")])
def test_a_pool_setting_out_of_range_is_refused_at_start(monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError, match=name.lower()):
        Settings()


def server_connections(url: str, name: str) -> int:
    probe = make_engine(Settings(database_url=url).sqlalchemy_url, 1, 0)
    try:
        with probe.connect() as conn:
            return conn.execute(text("SELECT count(*) FROM pg_stat_activity "
                                     "WHERE application_name = :n"), {"n": name}).scalar()
    finally:
        probe.dispose()


def test_a_replica_never_opens_more_than_pool_plus_overflow_connections(postgres_url):
    """Real PostgreSQL: with pool 2 + overflow 1, a fourth checkout waits for a free one."""
    name = "pool-budget-test"
    settings = Settings(database_url=f"{postgres_url}?application_name={name}",
                        database_pool_size=2, database_max_overflow=1)
    engine = make_engine(settings.sqlalchemy_url, settings.database_pool_size,
                         settings.database_max_overflow)
    held = [engine.connect() for _ in range(3)]
    try:
        for conn in held:
            conn.execute(text("SELECT 1"))
        assert server_connections(postgres_url, name) == 3
        got_one = threading.Event()

        def fourth():
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
                got_one.set()
        waiter = threading.Thread(target=fourth, daemon=True)
        waiter.start()
        assert not got_one.wait(1.0), "a fourth connection opened beyond pool + overflow"
        held.pop().close()
        assert got_one.wait(10), "the waiting checkout did not get the released connection"
        waiter.join(10)
        assert server_connections(postgres_url, name) <= 3
    finally:
        for conn in held:
            conn.close()
        engine.dispose()
