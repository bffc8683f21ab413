"""Every input shape the README's data format documents, as a stranger's data directory, through
the real CLI (`python -m bento.train`), the model store, `bentoml serve` and a `/recommend` call;
and the shapes that must stop do so before any work, with `file:line: reason`."""
from __future__ import annotations

import shutil
from pathlib import Path

import httpx
import pytest
import yaml

from devtools.procs import bentoml_serve, free_port
from tests.conftest import run_module
from tests.shapes import EDGE_IDS, SHAPES, write_shape

pytestmark = pytest.mark.slow  # one training and one `bentoml serve` per shape


@pytest.fixture(scope="module")
def shape_home(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("shapes-bentoml-home")


def store_entry(home: Path, tag: str) -> dict:
    name, version = tag.split(":")
    return yaml.safe_load((home / "models" / name / version / "model.yaml").read_text())


def nulls(value, where="metadata") -> list[str]:
    if isinstance(value, dict):
        return [bad for key, item in value.items() for bad in nulls(item, f"{where}.{key}")]
    if isinstance(value, list):
        return [bad for i, item in enumerate(value) for bad in nulls(item, f"{where}[{i}]")]
    return [where] if value is None else []


def has_times(data_dir: Path) -> bool:
    return "timestamp" in (data_dir / "interactions.csv").read_text().splitlines()[0]


@pytest.mark.parametrize("shape", list(SHAPES))
def test_each_documented_shape_trains_saves_serves_and_answers(shape, shape_home, tmp_path,
                                                               artifacts_dir):
    data_dir = write_shape(shape, tmp_path / "data")
    name = "shape_" + shape.replace(" ", "_")
    env = {"BENTOML_HOME": str(shape_home)}
    trained = run_module("bento.train", "--data", str(data_dir), "--model-name", name, env=env)
    tag = trained.stdout.strip().splitlines()[-1]
    assert tag.startswith(name + ":"), trained.stderr[-2000:]

    metadata = store_entry(shape_home, tag)["metadata"]
    assert nulls(metadata) == [], "a missing value is an absent key, never null"
    # The one encoding of "no like carries a time": data_until is absent.
    assert ("data_until" in metadata) == has_times(data_dir)
    assert metadata["counts"]["users"] >= 200

    history = EDGE_IDS[:3] if shape == "edge ids" else ["p0", "p4", "p8"]
    port = free_port()
    server = bentoml_serve(shape_home, port, artifacts_dir / "logs" / f"shape-{port}.log",
                           env={"RECOMMENDER_MODEL": tag})
    try:
        answer = httpx.post(f"{server.url}/recommend", json={"history": history, "k": 5},
                            timeout=10)
        info = httpx.post(f"{server.url}/model_info", json={}, timeout=10)
    finally:
        server.stop()
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["strategy"] == "personalized" and body["model"] == tag
    assert body["unknown"] == []
    picks = [item["playlist_id"] for item in body["items"]]
    assert len(picks) == 5 and not set(picks) & set(history)
    assert info.status_code == 200 and info.json()["tag"] == tag


def drop_a_listed_playlist(data_dir: Path) -> tuple[str, str]:
    path = data_dir / "playlists.csv"
    lines = path.read_text().splitlines()
    path.write_text("\n".join(lines[:1] + lines[2:]) + "\n")
    return "interactions.csv:", "not in playlists.csv"


def bad_time(data_dir: Path) -> tuple[str, str]:
    path = data_dir / "interactions.csv"
    lines = path.read_text().splitlines()
    lines[9] = lines[9].rsplit(",", 1)[0] + ",yesterday"
    path.write_text("\n".join(lines) + "\n")
    return "interactions.csv:10", "timestamp"


def zero_weight(data_dir: Path) -> tuple[str, str]:
    path = data_dir / "interactions.csv"
    lines = path.read_text().splitlines()
    fields = lines[4].split(",")
    fields[2] = "0"
    lines[4] = ",".join(fields)
    path.write_text("\n".join(lines) + "\n")
    return "interactions.csv:5", "weight"


@pytest.mark.parametrize("damage", [drop_a_listed_playlist, bad_time, zero_weight],
                         ids=lambda damage: damage.__name__)
def test_a_broken_shape_stops_before_any_work(damage, tmp_path):
    data_dir = write_shape("every column", tmp_path / "data")
    where, reason = damage(data_dir)
    home = tmp_path / "home"
    result = run_module("bento.train", "--data", str(data_dir), "--model-name", "broken",
                        env={"BENTOML_HOME": str(home)}, check=False)
    assert result.returncode == 2, result.stderr[-2000:]
    error = result.stderr.strip().splitlines()[-1]
    assert error.startswith("error: ") and where in error and reason in error, error
    assert "choosing settings" not in result.stderr  # stopped before the search
    assert not (home / "models" / "broken").exists()
    shutil.rmtree(home, ignore_errors=True)
