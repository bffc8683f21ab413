"""docker-compose (v1, from apt) as the tests call it: the real parser, no daemon needed."""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

import yaml

from devtools.procs import REPO_ROOT

COMPOSE_FILES = [REPO_ROOT / "docker-compose.yml", REPO_ROOT / "docker-compose.postgres.yml"]
COMPOSE_ENV = {"POSTGRES_PASSWORD": "only-for-validation", "MIGRATOR_PASSWORD": "m-validation",
               "GATEWAY_DB_PASSWORD": "g-validation"}


def docker_compose(*args: str, files=COMPOSE_FILES[:1], cwd: Path = REPO_ROOT):
    command = ["docker-compose"]
    for path in files:
        command += ["-f", str(path)]
    return subprocess.run([*command, *args], cwd=cwd, capture_output=True, text=True,
                          env={**os.environ, **COMPOSE_ENV}, timeout=60)


def compose_config(files=COMPOSE_FILES[:1]) -> dict:
    """The compose model as docker-compose itself resolves it (interpolated, normalised)."""
    result = docker_compose("config", files=files)
    assert result.returncode == 0, result.stderr
    return yaml.safe_load(result.stdout)
