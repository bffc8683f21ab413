"""The same data and seed give the same model on a quiet and on a busy machine: the real CLI
trains twice, the second time beside CPU burners, and both runs choose the same algorithm and
parameters and report the same figures; a wall-clock cap that cuts the search says so in the
store entry's metadata."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import run_module

pytestmark = pytest.mark.slow
BURN = "while True: pass"


def train(data: Path, home: Path, out: Path, *extra: str) -> dict:
    run_module("bento.train", "--data", str(data), "--metrics-out", str(out), *extra,
               env={"BENTOML_HOME": str(home)})
    return json.loads(out.read_text())


def store_metadata(home: Path, tag: str) -> dict:
    name, version = tag.split(":")
    return yaml.safe_load((home / "models" / name / version / "model.yaml").read_text())["metadata"]


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("same-model-data")
    run_module("bento.datagen", "--out", str(out), "--users", "400", "--playlists", "120",
               "--seed", "4")
    return out


def test_a_busy_machine_trains_the_same_model(data, tmp_path):
    quiet = train(data, tmp_path / "home", tmp_path / "quiet.json")
    burners = [subprocess.Popen([sys.executable, "-c", BURN])
               for _ in range(2 * (os.cpu_count() or 1))]
    try:
        busy = train(data, tmp_path / "home", tmp_path / "busy.json")
    finally:
        for burner in burners:
            burner.send_signal(signal.SIGKILL)
            burner.wait()
    assert quiet["search"]["candidates"] > 10 and "cut_by" not in quiet["search"]
    same = ("algorithm", "params", "search", "metrics")
    assert {key: busy[key] for key in same} == {key: quiet[key] for key in same}
    assert store_metadata(tmp_path / "home", busy["model"])["search"] == quiet["search"]


def test_a_wall_clock_cap_that_cuts_the_search_is_recorded(data, tmp_path):
    capped = train(data, tmp_path / "home", tmp_path / "capped.json", "--time-budget", "0.01")
    assert capped["search"]["cut_by"] == "time budget"
    metadata = store_metadata(tmp_path / "home", capped["model"])
    assert metadata["search"] == capped["search"]
    assert "--time-budget" in json.dumps(metadata["signals"])  # the signals not checked say why
