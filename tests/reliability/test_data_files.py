"""Corrupt or malicious data files, through the real CLIs and the gateway's first start: a clear
`file:line: reason`, a failing exit, and nothing written (no model, no rows)."""
from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

from tests.conftest import run_module
from devtools.procs import free_port, uvicorn_gateway

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


CORRUPTIONS = {"binary garbage": garbage, "formula injection": formula_name,
               "50 MB line": huge_line}


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


def test_gateway_first_start_refuses_and_imports_nothing(corrupt_dir, tmp_path, artifacts_dir):
    data, where, reason = corrupt_dir
    database = tmp_path / "gateway.db"
    port = free_port()
    log = artifacts_dir / "logs" / f"gateway-baddata-{port}.log"
    with pytest.raises(RuntimeError, match="exited") as failed:
        uvicorn_gateway(port, log, env={"DATABASE_URL": f"sqlite:///{database}",
                                        "GATEWAY_DATA_DIR": str(data),
                                        "BENTO_URL": f"http://127.0.0.1:{free_port()}"})
    assert where in str(failed.value) and reason in str(failed.value)
    if database.exists():
        with sqlite3.connect(database) as conn:
            tables = [name for (name,) in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'")]
            assert all(conn.execute(f"SELECT COUNT(*) FROM {name}").fetchone()[0] == 0
                       for name in tables)
