"""The trainer CLI end to end: data dir -> evaluation -> BentoML model store, and bad data."""
from __future__ import annotations

import json
import shutil

import bentoml
import numpy as np

from bento.recsys.model import ItemItemModel
from tests.conftest import run_module


def model_tags(name: str = "playlist_recommender") -> set[str]:
    return {str(model.tag) for model in bentoml.models.list(name)}


def test_train_saves_a_loadable_model_with_metadata(bento_home, sample_data_dir, tmp_path):
    metrics_file = tmp_path / "metrics.json"
    result = run_module("bento.train", "--data", str(sample_data_dir), "--model-name",
                        "roundtrip", "--algorithm", "itemknn", "--seed", "3",
                        "--metrics-out", str(metrics_file))
    tag = result.stdout.strip().splitlines()[-1]
    assert "recall@10" in result.stdout and "popularity (baseline)" in result.stdout
    stored = bentoml.models.get(tag)
    assert stored.info.labels["algorithm"] == "itemknn"
    assert len(stored.info.labels["dataset"]) == 16
    meta = stored.info.metadata
    interactions = len((sample_data_dir / "interactions.csv").read_text().splitlines()) - 1
    assert meta["counts"] == {"users": 600, "playlists": 150, "interactions": interactions}
    assert meta["metrics"]["recall@10"] > meta["baseline_metrics"]["recall@10"]
    assert {"numpy", "scipy", "scikit-learn", "bentoml"} <= set(meta["versions"])
    assert meta["seed"] == 3 and meta["trained_at"]
    metrics = json.loads(metrics_file.read_text())
    assert metrics["model"] == tag and metrics["algorithm"] == "itemknn"
    assert metrics["metrics"]["model"]["recall@10"] == meta["metrics"]["recall@10"]
    assert metrics["metrics"]["popularity"] == meta["baseline_metrics"]
    assert metrics["dataset"] == stored.info.labels["dataset"]
    model, catalogue = ItemItemModel.load(stored.path)
    assert model.algorithm == "itemknn" and model.n_items == 150
    assert set(catalogue) == set(model.item_ids)
    items, _ = model.recommend(np.array([0, 1]), 5)
    assert items.size == 5 and not {0, 1} & set(items.tolist())


def test_no_eval_skips_the_holdout(bento_home, sample_data_dir):
    result = run_module("bento.train", "--data", str(sample_data_dir), "--model-name", "quick",
                        "--algorithm", "ease", "--no-eval")
    assert "recall@10" not in result.stdout
    assert bentoml.models.get(result.stdout.strip()).info.metadata["metrics"] == {}


def test_bad_data_exits_non_zero_with_file_line_and_leaves_the_store_alone(
        bento_home, sample_data_dir, tmp_path):
    bad = tmp_path / "bad"
    shutil.copytree(sample_data_dir, bad)
    with open(bad / "interactions.csv", "a") as handle:
        handle.write("u00001,pl0001,-1,\n")
    line = len((bad / "interactions.csv").read_text().splitlines())
    before = {path.name for path in (bento_home / "models").rglob("*")}
    tags_before = model_tags()
    result = run_module("bento.train", "--data", str(bad), check=False)
    assert result.returncode == 2
    assert f"interactions.csv:{line}: weight '-1' must be a positive number" in result.stderr
    assert model_tags() == tags_before
    assert {path.name for path in (bento_home / "models").rglob("*")} == before


def test_unknown_algorithm_is_a_usage_error(sample_data_dir):
    result = run_module("bento.train", "--data", str(sample_data_dir), "--algorithm", "magic",
                        check=False)
    assert result.returncode == 2 and "invalid choice" in result.stderr
