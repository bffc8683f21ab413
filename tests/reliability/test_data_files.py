"""Corrupt or malicious data files, through the real CLIs (trainer, gateway importer): a clear
`file:line: reason`, a failing exit, and nothing written (no model, no rows)."""
from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

from tests.conftest import run_module
from devtools.procs import migrate_database

pytestmark = pytest.mark.slow


def garbage(path: Path) -> tuple[str, str]:
    path.write_bytes(path.read_bytes()[:200] + bytes(range(256)) * 40)
    return "interactions.csv:", "not valid UTF-8"


def formula_name(path: Path) -> tuple[str, str]:
    playlists = path.parent / "playlists.csv"
    lines = playlists.read_text().splitlines()
    fields = lines[3].split(",")
    lines[3] = ",".join([fields[0], "=SUM(1+1)*cmd|' /C calc'!A0", *fields[2:]])
    playlists.write_text("\n".join(lines) + "\n")
    return "playlists.csv:4", "formula"


def huge_line(path: Path) -> tuple[str, str]:
    with open(path.parent / "users.csv", "a") as users:
        users.write("u99999," + "x" * 50_000_000 + "\n")
    return "users.csv:", "field larger than field limit"


def id_of_spaces(path: Path) -> tuple[str, str]:
    lines = path.read_text().splitlines()
    lines[5] = "   ," + lines[5].split(",", 1)[1]
    path.write_text("\n".join(lines) + "\n")
    return "interactions.csv:6", "empty user_id"


def id_with_a_slash(path: Path) -> tuple[str, str]:
    lines = path.read_text().splitlines()
    lines[7] = "../x," + lines[7].split(",", 1)[1]
    path.write_text("\n".join(lines) + "\n")
    return "interactions.csv:8", "user_id must not contain '/'"


def id_with_c1_control(path: Path) -> tuple[str, str]:
    lines = path.read_text().splitlines()
    lines[2] = "u\u0085x," + lines[2].split(",", 1)[1]
    path.write_text("\n".join(lines) + "\n")
    return "interactions.csv:3", "user_id contains control characters"


CORRUPTIONS = {"binary garbage": garbage, "formula injection": formula_name,
               "50 MB line": huge_line, "id of spaces": id_of_spaces,
               "id with a slash": id_with_a_slash, "id with a C1 control": id_with_c1_control}


@pytest.fixture(params=list(CORRUPTIONS))
def corrupt_dir(request, sample_data_dir, tmp_path) -> tuple[Path, str, str]:
    data = tmp_path / "data"
    shutil.copytree(sample_data_dir, data)
    where, reason = CORRUPTIONS[request.param](data / "interactions.csv")
    return data, where, reason


def test_trainer_refuses_with_file_line_and_writes_no_model(corrupt_dir, tmp_path):
    data, where, reason = corrupt_dir
    home = tmp_path / "bentoml-home"
    result = run_module("bento.train", "--data", str(data), "--no-eval",
                        env={"BENTOML_HOME": str(home)}, check=False)
    assert result.returncode == 2, result.stdout + result.stderr
    assert where in result.stderr and reason in result.stderr, result.stderr[-2000:]
    assert not list(home.glob("models/*/*")), "a model was written"


def test_importer_refuses_and_imports_nothing(corrupt_dir, tmp_path):
    data, where, reason = corrupt_dir
    database_url = f"sqlite:///{tmp_path / 'gateway.db'}"
    migrate_database(database_url)
    result = run_module("gateway.importer", str(data), "--database-url", database_url,
                        check=False)
    assert result.returncode == 2, result.stdout + result.stderr
    assert where in result.stderr and reason in result.stderr, result.stderr[-2000:]
    with sqlite3.connect(tmp_path / "gateway.db") as conn:
        for name in ("users", "playlists", "playlist_tags", "likes"):
            assert conn.execute(f"SELECT COUNT(*) FROM {name}").fetchone()[0] == 0, name
