"""Shared fixtures: a small generated dataset, a trained model in a temporary BENTOML_HOME, and a
real `bentoml serve` of this repo's bentofile.

BentoML reads BENTOML_HOME when it is first imported, so the temporary home is set here, before
any test module imports it; every test in the session then shares one throwaway model store.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from devtools.postgres import postgres_bin, postgres_server
from devtools.procs import REPO_ROOT, Server, bentoml_serve, free_port

SESSION_BENTOML_HOME = Path(tempfile.mkdtemp(prefix="test-bentoml-home-"))
os.environ["BENTOML_HOME"] = str(SESSION_BENTOML_HOME)
os.environ["BENTOML_DO_NOT_TRACK"] = "True"
ARTIFACTS = REPO_ROOT / "test-artifacts"


def run_module(module: str, *args: str, env: dict[str, str] | None = None,
               check: bool = True) -> subprocess.CompletedProcess:
    """`python -m module args` from the repo root, as a user would type it."""
    result = subprocess.run([sys.executable, "-m", module, *args], cwd=REPO_ROOT,
                            capture_output=True, text=True, env={**os.environ, **(env or {})},
                            timeout=600)
    if check and result.returncode != 0:
        raise AssertionError(f"{module} {args} failed ({result.returncode}):\n"
                             f"{result.stdout}\n{result.stderr}")
    return result


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def sample_data_dir(tmp_path_factory) -> Path:
    """A small dataset from the real generator (600 users, 150 playlists)."""
    out = tmp_path_factory.mktemp("sample-data")
    run_module("bento.datagen", "--out", str(out), "--users", "600", "--playlists", "150",
               "--seed", "0")
    return out


@pytest.fixture(scope="session")
def bento_home(sample_data_dir) -> Path:
    """The session's BENTOML_HOME with a `playlist_recommender` trained by the real CLI."""
    run_module("bento.train", "--data", str(sample_data_dir))
    yield SESSION_BENTOML_HOME
    shutil.rmtree(SESSION_BENTOML_HOME, ignore_errors=True)


@pytest.fixture(scope="session")
def bento_server(bento_home, artifacts_dir) -> Server:
    """A real `bentoml serve` on a free loopback port, shared by the session: do not stop it."""
    port = free_port()
    server = bentoml_serve(bento_home, port, artifacts_dir / "logs" / f"bento-{port}.log")
    yield server
    server.stop()


@pytest.fixture(scope="session")
def postgres_url():
    """A real PostgreSQL (initdb + pg_ctl in a temp dir on 127.0.0.1), stopped at the end."""
    bin_dir = postgres_bin()
    if bin_dir is None:
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL is not installed (scripts/apt-packages.txt lists it)")
        pytest.skip("PostgreSQL server binaries not installed")
    with postgres_server(bin_dir) as url:
        yield url
