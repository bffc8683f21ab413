"""`python -m gateway.importer DIR` as an operator runs it: exit codes, messages, re-runs."""
from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import run_module
from devtools.procs import REPO_ROOT, migrate_database

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


def test_the_gateway_runs_from_its_image_contents_alone(tmp_path, tiny_data_dir):
    """What gateway/Dockerfile ships (gateway/, alembic.ini, the installed datarules) is enough
    to migrate, import and load the app: nothing is taken from bento/."""
    for name in ("gateway", "datarules"):
        shutil.copytree(REPO_ROOT / name, tmp_path / name,
                        ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO_ROOT / "alembic.ini", tmp_path)
    env = {"PATH": os.environ["PATH"], "DATABASE_URL": f"sqlite:///{tmp_path}/image.db"}
    bin_dir = Path(sys.executable).parent
    for command in ([str(bin_dir / "alembic"), "upgrade", "head"],
                    [sys.executable, "-m", "gateway.importer", str(tiny_data_dir)],
                    [sys.executable, "-c", "import sys, gateway.main, gateway.export; "
                                           "assert not [m for m in sys.modules "
                                           "if m.split('.')[0] == 'bento'], 'imports bento'"]):
        result = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True,
                                timeout=120)
        assert result.returncode == 0, result.stdout + result.stderr
