"""The Spark path gives the model the single-machine path gives: same weights, same top-k.

Spark runs in local mode (local[2], loopback, no UI) with Java from default-jre-headless.
"""
from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from bento.recsys import stats
from bento.recsys.algorithms import fit
from bento.recsys.dataio import load_dataset
from bento.recsys.matrix import binarize, build_matrix
from tests.conftest import run_module

pytestmark = pytest.mark.slow

CASES = [("popularity", {}),
         ("itemknn", {"neighbours": 30, "shrink": 10.0}),
         ("ease", {"l2": 100.0, "dropout": 0.25, "beta": 0.1}),
         ("rp3beta", {"alpha": 0.75, "beta": 0.3, "neighbours": 40})]
K = 10


@pytest.fixture(scope="module")
def matrix(sample_data_dir):
    return build_matrix(load_dataset(sample_data_dir))


def dense(weights) -> np.ndarray:
    return weights.toarray() if sp.issparse(weights) else np.asarray(weights)


def top_k_for_everyone(model, user_items: sp.csr_matrix) -> list[list[int]]:
    return [model.recommend(user_items[u].indices.astype(np.int64), K)[0].tolist()
            for u in range(user_items.shape[0])]


def test_the_spark_gram_is_the_local_gram(matrix, spark_engine):
    user_items = binarize(matrix.user_items)
    for exponent in (0.0, 0.75):
        local = stats.gram(user_items, exponent)
        with stats.summed_by(spark_engine):
            summed = stats.gram(user_items, exponent)
        assert summed.nnz == local.nnz > user_items.shape[1]
        np.testing.assert_allclose(summed.toarray(), local.toarray(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("algorithm,params", CASES, ids=[case[0] for case in CASES])
def test_same_weights_and_same_top_k_for_every_listener(matrix, spark_engine, algorithm, params):
    user_items = binarize(matrix.user_items)
    local = fit(algorithm, user_items, matrix.item_ids, params)
    with stats.summed_by(spark_engine):
        distributed = fit(algorithm, user_items, matrix.item_ids, params)
    assert distributed.params == local.params
    np.testing.assert_array_equal(distributed.popularity, local.popularity)
    if local.weights is not None:
        assert np.count_nonzero(dense(local.weights)) > 0
        np.testing.assert_allclose(dense(distributed.weights), dense(local.weights),
                                   rtol=1e-4, atol=1e-6)
    assert top_k_for_everyone(distributed, user_items) == top_k_for_everyone(local, user_items)


@pytest.mark.parametrize("algorithm,params", [case for case in CASES if "neighbours" in case[1]],
                         ids=["itemknn", "rp3beta"])
def test_only_the_pruned_rows_reach_the_driver(matrix, spark_engine, algorithm, params):
    """itemknn and rp3beta prune on the executors, beside each block of summed rows."""
    user_items = binarize(matrix.user_items)
    exponent = params.get("alpha", 0.0)
    with stats.summed_by(spark_engine):
        model = fit(algorithm, user_items, matrix.item_ids, params)
    assert spark_engine.collected == model.weights.nnz
    assert model.weights.nnz <= params["neighbours"] * user_items.shape[1]
    assert model.weights.nnz < stats.gram(user_items, exponent).nnz / 2


def test_train_cli_with_spark_saves_the_model_the_local_engine_fits(sample_data_dir, matrix,
                                                                    tmp_path):
    """`--engine spark` end to end into a fresh model store: the saved model is the one the
    local engine fits with the same settings."""
    from bento.recsys.model import ItemItemModel

    result = run_module("bento.train", "--data", str(sample_data_dir), "--engine", "spark",
                        "--algorithm", "itemknn", "--no-eval", "--model-name", "spark_equal",
                        env={"BENTOML_HOME": str(tmp_path)})
    name, version = result.stdout.strip().splitlines()[-1].split(":")
    saved, catalogue = ItemItemModel.load(tmp_path / "models" / name / version)
    local = fit("itemknn", binarize(matrix.user_items), matrix.item_ids, saved.params)
    assert saved.algorithm == "itemknn" and len(catalogue) == len(matrix.item_ids)
    np.testing.assert_allclose(dense(saved.weights), dense(local.weights), rtol=1e-4, atol=1e-6)


def test_retrain_passes_the_engine_through(sample_data_dir, tmp_path):
    """`bento.retrain --engine spark`: snapshot, train on Spark, gate, promote (local store)."""
    from tests.bento.test_retrain import retrain
    from tests.gateway.conftest import migrate_and_import

    url = f"sqlite:///{tmp_path}/gateway.db"
    migrate_and_import(url, sample_data_dir)
    code, report, stderr = retrain(tmp_path, "--database-url", url, "--engine", "spark",
                                   "--algorithm", "itemknn")
    assert "starting Spark" in stderr
    assert code == 0 and report["decision"] == "promoted"
    assert report["candidate"]["algorithm"] == "itemknn"


def test_an_unknown_engine_is_refused(sample_data_dir):
    result = run_module("bento.train", "--data", str(sample_data_dir), "--engine", "hadoop",
                        check=False)
    assert result.returncode == 2 and "invalid choice: 'hadoop'" in result.stderr
