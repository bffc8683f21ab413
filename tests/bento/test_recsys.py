"""The math on small matrices whose answers were worked out by hand."""
from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.sparse as sp

from bento.recsys.algorithms import fit
from bento.recsys.evaluation import (evaluate, held_out_hits, holdout_split, sparse_top_k,
                                     top_k_per_row)
from bento.recsys.model import ItemItemModel, gathered

ITEMS = ["a", "b", "c"]
# users x items: u0 {a,b}, u1 {a,b,c}, u2 {b,c}, u3 {a}
X = sp.csr_matrix(np.array([[1, 1, 0], [1, 1, 1], [0, 1, 1], [1, 0, 0]], dtype=np.float32))
COS_AB, COS_AC, COS_BC = 2 / 3, 1 / math.sqrt(6), 2 / math.sqrt(6)


def ids(model: ItemItemModel, indices) -> list[str]:
    return [model.item_ids[i] for i in indices]


def test_popularity_counts_users_and_ignores_history():
    model = fit("popularity", X, ITEMS)
    assert model.popularity.tolist() == [3, 3, 2]
    items, scores = model.recommend(np.array([0]), 3)
    assert ids(model, items) == ["b", "c"]
    assert scores.tolist() == pytest.approx([1.0, 2 / 3])


def test_itemknn_cosine_scores_and_reasons():
    model = fit("itemknn", X, ITEMS, {"neighbours": 2})
    dense = model.weights.toarray()
    assert dense == pytest.approx(np.array([[0, COS_AB, COS_AC], [COS_AB, 0, COS_BC],
                                            [COS_AC, COS_BC, 0]]), abs=1e-6)
    items, scores = model.recommend(np.array([0]), 2)
    assert ids(model, items) == ["b", "c"]
    assert scores.tolist() == pytest.approx([COS_AB, COS_AC], abs=1e-5)
    items, scores = model.recommend(np.array([0, 1]), 5)
    assert ids(model, items) == ["c"]
    assert scores[0] == pytest.approx(COS_AC + COS_BC, abs=1e-5)
    assert [ids(model, why) for why in model.explain(np.array([0, 1]), items)] == [["b", "a"]]


def test_itemknn_pruning_keeps_top_neighbour_and_popularity_fills_the_rest():
    model = fit("itemknn", X, ITEMS, {"neighbours": 1})
    assert model.weights.toarray() == pytest.approx(
        np.array([[0, COS_AB, 0], [0, 0, COS_BC], [0, COS_BC, 0]]), abs=1e-6)
    items, scores = model.recommend(np.array([2]), 2)
    assert ids(model, items) == ["b", "a"]
    assert scores[0] == pytest.approx(COS_BC, abs=1e-5)
    assert scores[1] == pytest.approx(0.0, abs=1e-5)
    assert [ids(model, why) for why in model.explain(np.array([2]), items)] == [["c"], []]


def test_ease_solves_its_normal_equations_with_zero_diagonal():
    l2 = 1.0
    model = fit("ease", X, ITEMS, {"l2": l2})
    weights = model.weights.astype(np.float64)
    assert np.diag(weights).tolist() == [0, 0, 0]
    gram = (X.T @ X).toarray()
    assert gram.tolist() == [[3, 2, 1], [2, 3, 2], [1, 2, 2]]
    # Off the diagonal, (G + l2 I) B = G exactly (the Lagrange terms live on the diagonal).
    residual = (gram + l2 * np.eye(3)) @ weights - gram
    off_diagonal = residual[~np.eye(3, dtype=bool)]
    assert off_diagonal == pytest.approx(np.zeros(6), abs=1e-5)
    # By hand: P = inv([[4,2,1],[2,4,2],[1,2,3]]) = [[8,-4,0],[-4,11,-6],[0,-6,12]] / 24 and
    # B[i, j] = -P[i, j] / P[j, j].
    assert weights[0].tolist() == pytest.approx([0, 4 / 11, 0], abs=1e-6)
    assert weights[1].tolist() == pytest.approx([0.5, 0, 0.5], abs=1e-6)
    assert weights[2].tolist() == pytest.approx([0, 6 / 11, 0], abs=1e-6)


def test_ease_on_a_user_weighted_gram_by_hand():
    # user_exponent 1: u0..u3 have 2, 3, 2, 1 items, so they count 1/2, 1/3, 1/2, 1 in
    # G_w = [[11/6, 5/6, 1/3], [5/6, 4/3, 5/6], [1/3, 5/6, 5/6]]; l2 = 2 in unweighted units
    # is 2 * (4 users / 8 items) = 1 here. 6 (G_w + I) = [[17,5,2],[5,14,5],[2,5,11]], whose
    # inverse is [[129,-45,-3],[-45,183,-75],[-3,-75,213]] / 1962; B[i, j] = -P[i, j] / P[j, j].
    model = fit("ease", X, ITEMS, {"l2": 2.0, "user_exponent": 1.0})
    assert model.params == {"l2": 2.0, "user_exponent": 1.0}
    assert model.weights == pytest.approx(
        np.array([[0, 15 / 61, 1 / 71], [15 / 43, 0, 25 / 71], [1 / 43, 25 / 61, 0]]), abs=1e-6)
    items, scores = model.recommend(np.array([0]), 2)
    assert ids(model, items) == ["b", "c"]
    assert scores.tolist() == pytest.approx([15 / 61, 1 / 71], abs=1e-5)
    items, scores = model.recommend(np.array([0, 1]), 3)
    assert ids(model, items) == ["c"] and scores[0] == pytest.approx(26 / 71, abs=1e-5)
    assert [ids(model, why) for why in model.explain(np.array([0, 1]), items)] == [["b", "a"]]
    # Exponent 0 is plain EASE, whatever the scaling.
    assert fit("ease", X, ITEMS, {"l2": 1.0, "user_exponent": 0.0}).weights == \
        pytest.approx(fit("ease", X, ITEMS, {"l2": 1.0}).weights)


def test_rp3beta_random_walk_with_popularity_damping():
    model = fit("rp3beta", X, ITEMS, {"alpha": 1.0, "beta": 0.5, "neighbours": 2})
    row_a = model.weights.toarray()[0]
    # a -> {u0, u1, u3} each 1/3 -> b: (1/2 + 1/3 + 0) / 3, c: (0 + 1/3 + 0) / 3
    assert row_a.tolist() == pytest.approx([0, (5 / 6) / 3 / math.sqrt(3),
                                            (1 / 3) / 3 / math.sqrt(2)], abs=1e-6)


def test_recommend_never_returns_history_or_excluded_and_handles_small_catalogues():
    model = fit("itemknn", X, ITEMS)
    items, _ = model.recommend(np.array([0]), 10, exclude=np.array([2]))
    assert ids(model, items) == ["b"]
    items, _ = model.recommend(np.array([0, 1, 2]), 10)
    assert items.size == 0


def test_known_splits_ids_and_deduplicates():
    model = fit("popularity", X, ITEMS)
    known, unknown = model.known(["c", "zz", "a", "c"])
    assert known.tolist() == [2, 0]
    assert unknown == ["zz"]


@pytest.mark.parametrize("algorithm, params", [("ease", {"l2": 2.0}), ("itemknn", {}),
                                               ("popularity", {})])
def test_save_and_load_without_pickle(tmp_path, algorithm, params):
    model = fit(algorithm, X, ITEMS, params)
    model.save(tmp_path, {"a": {"name": "A"}})
    # Only numeric arrays and JSON: nothing a load would have to unpickle.
    assert sorted(path.name for path in tmp_path.iterdir()) == ["arrays.npz", "catalogue.json"]
    with np.load(tmp_path / "arrays.npz", allow_pickle=False) as arrays:
        stored = {name: arrays[name].dtype.kind for name in arrays.files}
    assert stored["popularity"] == "f" and set(stored.values()) <= {"f", "i"}
    loaded, catalogue = ItemItemModel.load(tmp_path)
    assert catalogue == {"a": {"name": "A"}}
    assert (loaded.algorithm, loaded.params, loaded.item_ids) == (algorithm, model.params, ITEMS)
    history = np.array([1])
    assert loaded.scores(history) == pytest.approx(model.scores(history))


def test_holdout_split_is_seeded_disjoint_and_complete():
    rng = np.random.default_rng(1)
    matrix = sp.csr_matrix((rng.random((50, 30)) < 0.2).astype(np.float32))
    train, test = holdout_split(matrix, fraction=0.2, seed=7)
    again_train, again_test = holdout_split(matrix, fraction=0.2, seed=7)
    assert (train != again_train).nnz == 0 and (test != again_test).nnz == 0
    assert (train + test != matrix).nnz == 0
    assert train.multiply(test).nnz == 0
    counts = np.diff(matrix.indptr)
    test_counts = np.diff(test.indptr)
    assert np.all(test_counts[counts < 3] == 0)
    assert np.all(test_counts[counts >= 3] == np.maximum(1, (counts[counts >= 3] * 0.2)
                                                         .astype(int)))


def test_metrics_on_a_worked_example():
    model = ItemItemModel(["w", "x", "y", "z"], np.array([4, 3, 2, 1], dtype=np.float32))
    train = sp.csr_matrix(np.array([[1, 0, 0, 0], [0, 1, 0, 0]], dtype=np.float32))
    test = sp.csr_matrix(np.array([[0, 0, 1, 0], [0, 0, 0, 1]], dtype=np.float32))
    # user 0 gets [x, y] (hit at rank 2), user 1 gets [w, y] (miss)
    metrics = evaluate(model, train, test, k=2)
    assert metrics["recall"] == pytest.approx(0.5)
    assert metrics["ndcg"] == pytest.approx((1 / math.log2(3)) / 2)
    assert metrics["precision"] == pytest.approx(0.25)
    assert metrics["coverage"] == pytest.approx(0.75)
    assert metrics["users"] == 2


@pytest.mark.parametrize("density", [0.002, 0.05, 0.6])
def test_recommend_matches_a_full_sort_on_random_models(density):
    """Sparse and dense-ish weights, histories with few or many neighbours: the fast top-k
    (partitioning only items the history touches when it can) equals sorting every score."""
    rng = np.random.default_rng(4)
    n_items = 300
    weights = sp.random(n_items, n_items, density=density, format="csr", random_state=rng,
                        dtype=np.float32)
    model = ItemItemModel([f"i{i}" for i in range(n_items)],
                          rng.integers(1, 50, n_items).astype(np.float32), weights, "random")
    for _ in range(50):
        history = rng.choice(n_items, rng.integers(1, 6), replace=False)
        exclude = rng.choice(n_items, 3, replace=False)
        k = int(rng.integers(1, 40))
        items, scores = model.recommend(history, k, exclude)
        full = model.scores(history)
        full[np.concatenate([history, exclude])] = -np.inf
        expected = np.sort(full)[::-1][:k]
        assert scores.tolist() == pytest.approx(expected.tolist())
        assert not set(items.tolist()) & (set(history.tolist()) | set(exclude.tolist()))


@pytest.mark.parametrize("dense_weights", [False, True])
def test_batch_scores_and_hits_are_the_plain_dense_computation(dense_weights):
    """Evaluation's item-item scores and held-out lookup equal, bit for bit, the plain form:
    zeros + (1 - share) * histories @ weights + tie-break, and a dense held-out mask."""
    rng = np.random.default_rng(7)
    n_items = 120
    weights = sp.random(n_items, n_items, density=0.05, format="csr", random_state=rng,
                        dtype=np.float32)
    weights.data -= 0.3  # negative weights too, like dense EASE
    weights = weights.toarray() if dense_weights else weights
    model = ItemItemModel([f"i{i}" for i in range(n_items)],
                          rng.integers(0, 50, n_items).astype(np.float32), weights, "random")
    histories = sp.random(40, n_items, density=0.05, format="csr", random_state=rng,
                          dtype=np.float32)
    histories.data[:] = 1.0
    product = histories @ weights
    plain = np.zeros((40, n_items), dtype=np.float32)
    plain += (1.0 - 0.0) * np.asarray(product.toarray() if sp.issparse(product) else product,
                                      dtype=np.float32)
    plain += 1e-6 * model.popularity_prior
    assert np.array_equal(model.batch_scores(histories), plain)

    test = sp.random(40, n_items, density=0.04, format="csr", random_state=rng,
                     dtype=np.float32)
    test.data[::3] = 0.0  # stored zeros are not held out
    top = rng.integers(0, n_items, (40, 10))
    relevant = test.toarray() > 0
    hits, n_relevant = held_out_hits(test, top, 10)
    assert np.array_equal(hits, np.take_along_axis(relevant, top, axis=1))
    assert np.array_equal(n_relevant, np.minimum(relevant.sum(axis=1), 10))


@pytest.mark.parametrize("kind", ["popularity", "sparse", "sparse_signed"])
def test_sparse_top_k_is_the_dense_top_k(kind):
    """Evaluation's top-k from the product's entries and a prefix of the shared scores equals
    the dense top-k over every item (ties included: popularity counts repeat a lot)."""
    rng = np.random.default_rng(11)
    compared = 0
    for trial in range(30):
        n_items = int(rng.integers(60, 400))
        popularity = rng.integers(0, 6, n_items).astype(np.float32)
        weights = None
        if kind != "popularity":
            weights = sp.random(n_items, n_items, density=float(rng.choice([0.002, 0.02])),
                                format="csr", random_state=rng, dtype=np.float32)
            weights.data = np.round(weights.data, 1)  # equal weights: ties among entries
            if kind == "sparse_signed":
                weights.data -= 0.5
        model = ItemItemModel([f"i{i}" for i in range(n_items)], popularity, weights, kind)
        histories = sp.random(50, n_items, density=0.02, format="csr", random_state=rng,
                              dtype=np.float32)
        histories.data[:] = 1.0
        k = int(rng.choice([1, 5, 10]))
        scores = model.batch_scores(histories)
        seen = histories.tocoo()
        scores[seen.row, seen.col] = -np.inf
        fast = sparse_top_k(model, histories, k)
        if fast is not None:
            assert np.array_equal(fast, top_k_per_row(scores, k)), trial
            compared += 1
    assert compared >= 20  # the rest were too small to gain: the dense path took them


def test_any_scorer_with_batch_scores_evaluates_like_the_model_it_wraps():
    """bench's rivals (reference EASE, implicit's ALS) are not ItemItemModels: evaluate takes
    anything with `n_items` and `batch_scores`, through the dense path, with the same result."""
    rng = np.random.default_rng(3)
    matrix = sp.csr_matrix((rng.random((80, 400)) < 0.05).astype(np.float32))
    train, test = holdout_split(matrix, seed=1)
    model = fit("itemknn", train, [f"i{n}" for n in range(400)], {"neighbours": 20})

    class Wrapped:
        n_items = model.n_items
        batch_scores = staticmethod(model.batch_scores)

    assert sparse_top_k(Wrapped(), train[:5], 10) is None
    assert evaluate(Wrapped(), train, test) == pytest.approx(evaluate(model, train, test))


def test_gathered_is_scipys_block_for_any_column_order():
    """The serve-time gather (explanations, content) against scipy's fancy indexing: columns
    in any order, a subset, one, or none."""
    rng = np.random.default_rng(3)
    for _ in range(30):
        n = int(rng.integers(1, 40))
        matrix = sp.random(n, n, density=0.3, format="csr", random_state=rng, dtype=np.float32)
        rows = rng.choice(n, int(rng.integers(1, n + 1)), replace=False)
        cols = rng.choice(n, int(rng.integers(0, n + 1)), replace=False)
        expected = matrix[rows][:, cols].toarray()
        assert np.array_equal(gathered(matrix, rows, cols), expected)
