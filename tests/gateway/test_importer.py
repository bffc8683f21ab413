"""`python -m gateway.importer DIR` as an operator runs it: exit codes, messages, re-runs."""
from __future__ import annotations

import sqlite3

import pytest

from tests.conftest import run_module
from tests.procs import migrate_database

pytestmark = pytest.mark.slow


def counts(path) -> dict[str, int]:
    with sqlite3.connect(path) as conn:
        return {name: conn.execute(f"SELECT COUNT(*) FROM {name}").fetchone()[0]
                for name in ("users", "playlists", "playlist_tags", "likes")}


def test_import_rerun_and_if_empty(tiny_data_dir, tmp_path):
    database = tmp_path / "gateway.db"
    url = f"sqlite:///{database}"
    unmigrated = run_module("gateway.importer", str(tiny_data_dir), "--database-url", url,
                            check=False)
    assert unmigrated.returncode == 1 and "alembic upgrade head" in unmigrated.stderr
    migrate_database(url)
    first = run_module("gateway.importer", str(tiny_data_dir), "--database-url", url)
    assert "imported 4 likes, 3 users, 5 playlists" in first.stdout
    loaded = counts(database)
    assert loaded == {"users": 3, "playlists": 5, "playlist_tags": 6, "likes": 4}
    run_module("gateway.importer", str(tiny_data_dir), "--database-url", url)
    assert counts(database) == loaded
    skipped = run_module("gateway.importer", str(tiny_data_dir), "--if-empty",
                         env={"DATABASE_URL": url})
    assert "already holds data" in skipped.stdout


def test_missing_directory_is_exit_2(tmp_path):
    result = run_module("gateway.importer", str(tmp_path / "nowhere"), "--database-url",
                        f"sqlite:///{tmp_path}/x.db", check=False)
    assert result.returncode == 2 and "interactions.csv: required file not found" in result.stderr
