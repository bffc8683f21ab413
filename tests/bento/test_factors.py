"""iALS fold-in, blends and the EASE head on hand-checked matrices, and the serve-time path
against a plain dense computation (seeded random loops)."""
from __future__ import annotations

import time

import numpy as np
import pytest
import scipy.sparse as sp

from bento.recsys import algorithms, gram, tuning
from bento.recsys.algorithms import fit
from bento.recsys.evaluation import holdout_split
from bento.recsys.factors import fold_in, regularised_gram
from bento.recsys.model import ItemItemModel

# 3 items x 2 factors; G = Y'Y + 1 I = [[3, 1], [1, 3]], confidence 2.
Y = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]], dtype=np.float32)
ITEMS = ["a", "b", "c"]
PARAMS = {"factors": 2, "regularization": 1.0, "confidence": 2.0}


def factor_model(factors=Y, params=PARAMS, weights=None, algorithm="ials"):
    n_items = factors.shape[0]
    return ItemItemModel([f"i{i}" for i in range(n_items)] if n_items != 3 else ITEMS,
                         np.arange(n_items, 0, -1).astype(np.float32), weights, algorithm,
                         dict(params), factors)


def test_fold_in_scores_top_k_and_reasons_by_hand():
    # History {a}: A = G + (2 - 1) y_a y_a' = [[4, 1], [1, 3]], b = 2 y_a = [2, 0],
    # x = A^-1 b = [3, -1] / 11 * 2 = [6, -2] / 11, scores Y x = [6, -2, 4] / 11.
    model = factor_model()
    scores = model.scores(np.array([0]))
    assert scores == pytest.approx(np.array([6, -2, 4]) / 11, abs=1e-5)
    items, top = model.recommend(np.array([0]), 2)
    assert [ITEMS[i] for i in items] == ["c", "b"]
    assert top == pytest.approx(np.array([4, -2]) / 11, abs=1e-5)
    # One history item: its share of c's score is the whole score; b's share is negative.
    assert [[ITEMS[i] for i in why] for why in model.explain(np.array([0]), items)] == [["a"], []]
    # The batched fold-in (evaluation, training) gives the same row.
    batch = model.batch_scores(sp.csr_matrix(np.array([[1, 0, 0]], dtype=np.float32)))
    assert batch[0] == pytest.approx(scores, abs=1e-6)


def test_a_history_is_folded_in_once_and_another_history_never_reuses_it():
    model = factor_model()
    first = model.fold_in(np.array([0]), None)
    assert model.fold_in(np.array([0]), None) is first  # scores then explain: one solve
    for history, weights in ((np.array([1]), None), (np.array([0]), np.array([3.0])),
                             (np.array([0], dtype=np.int32), None)):
        assert model.fold_in(history, weights) is not first
    # History {a} weighted 3: A = G + (6 - 1) y_a y_a' = [[8, 1], [1, 3]], b = 6 y_a,
    # x = [18, -6] / 23, so the cached unweighted vector must not come back.
    model.fold_in(np.array([0]), None)
    assert model.scores(np.array([0]), np.array([3.0])) == pytest.approx(
        np.array([18, -6, 12]) / 23, abs=1e-5)


def test_blend_mixes_item_item_and_factor_scores_by_hand():
    weights = np.array([[0, 1, 0], [0, 0, 0], [0, 0, 0]], dtype=np.float32)
    model = factor_model(weights=weights, params={**PARAMS, "blend": 0.25}, algorithm="blend")
    # 0.75 * [0, 1, 0] + 0.25 * [6, -2, 4] / 11
    expected = 0.75 * np.array([0, 1, 0]) + 0.25 * np.array([6, -2, 4]) / 11
    assert model.scores(np.array([0])) == pytest.approx(expected, abs=1e-5)
    items, _ = model.recommend(np.array([0]), 2)
    assert [ITEMS[i] for i in items] == ["b", "c"]


def test_fold_in_equals_implicits_recalculate_user():
    from implicit.cpu.als import AlternatingLeastSquares
    from threadpoolctl import threadpool_limits

    rng = np.random.default_rng(1)
    likes = sp.csr_matrix((rng.random((80, 30)) < 0.15).astype(np.float32))
    als = AlternatingLeastSquares(factors=8, regularization=0.5, alpha=4.0, iterations=3,
                                  random_state=0, num_threads=1)
    with threadpool_limits(1, "blas"):
        als.fit(likes, show_progress=False)
    histories = likes[:10]
    theirs = als.recalculate_user(np.arange(10), histories)
    mine = fold_in(als.item_factors, regularised_gram(als.item_factors, 0.5), 4.0, histories)
    assert mine == pytest.approx(theirs, abs=2e-3)


@pytest.mark.parametrize("blend, item_item",
                         [(None, None), (0.4, "sparse"), (0.4, "user-weighted ease")])
def test_serve_path_equals_a_dense_computation(blend, item_item):
    """scores, batch scores, recommend and per-history contributions against np.linalg.solve;
    the item-item part random sparse or a dense EASE fitted on a user-weighted Gram."""
    rng = np.random.default_rng(7)
    for trial in range(25):
        n_items, n_factors = int(rng.integers(5, 60)), int(rng.integers(1, 9))
        factors = rng.standard_normal((n_items, n_factors)).astype(np.float32)
        reg, confidence = float(rng.uniform(0.01, 5)), float(rng.uniform(1, 20))
        params = {"regularization": reg, "confidence": confidence}
        weights = None
        if item_item == "sparse":
            weights = sp.random(n_items, n_items, density=0.2, format="csr",
                                random_state=rng, dtype=np.float32)
        elif item_item is not None:
            likes = sp.csr_matrix((rng.random((40, n_items)) < 0.3).astype(np.float32))
            weights = fit("ease", likes, [f"i{i}" for i in range(n_items)],
                          {"l2": float(rng.uniform(0.5, 20)), "dropout": 0.25, "beta": 0.1,
                           "user_exponent": float(rng.uniform(0.1, 1))}).weights
        if blend is not None:
            params["blend"] = blend
        model = factor_model(factors, params, weights)
        history = rng.choice(n_items, int(rng.integers(1, min(8, n_items - 1))), replace=False)
        y = factors.astype(np.float64)
        system = y.T @ y + reg * np.eye(n_factors) + (confidence - 1) * y[history].T @ y[history]
        listener = np.linalg.solve(system, confidence * y[history].sum(axis=0))
        expected = y @ listener
        if blend is not None:
            dense = weights.toarray() if sp.issparse(weights) else weights.astype(np.float64)
            expected = (1 - blend) * dense[history].sum(axis=0) + blend * expected
        scores = model.scores(history)
        assert scores == pytest.approx(expected, abs=1e-3 * (1 + np.abs(expected).max()))
        row = np.zeros((1, n_items), dtype=np.float32)
        row[0, history] = 1
        assert model.batch_scores(sp.csr_matrix(row))[0] == pytest.approx(scores, abs=1e-4)
        shares = model.contributions(history, np.arange(n_items))
        tolerance = 1e-3 * (1 + np.abs(expected).max())
        assert shares.sum(axis=0) == pytest.approx(expected, abs=tolerance)
        k = int(rng.integers(1, n_items - history.size + 1))
        items, top = model.recommend(history, k)
        masked = scores.copy()
        masked[history] = -np.inf
        assert top == pytest.approx(np.sort(masked)[::-1][:k])


def test_save_and_load_factor_and_blend_models(tmp_path):
    rng = np.random.default_rng(2)
    likes = sp.csr_matrix((rng.random((60, 20)) < 0.2).astype(np.float32))
    ids = [f"p{i}" for i in range(20)]
    for algorithm, params in (("ials", {"factors": 4}),
                              ("blend", {"base": "ease", "base_params": {"l2": 5.0},
                                         "partner": "ials", "blend": 0.3,
                                         "partner_params": {"factors": 4, "confidence": 5.0}}),
                              ("blend", {"base": "ease", "base_params": {"l2": 5.0},
                                         "partner": "rp3beta", "blend": 0.5})):
        model = fit(algorithm, likes, ids, params)
        model.save(tmp_path)
        with np.load(tmp_path / "arrays.npz", allow_pickle=False) as arrays:
            assert ("item_factors" in arrays) == (params.get("partner") != "rp3beta")
        loaded, _ = ItemItemModel.load(tmp_path)
        assert (loaded.algorithm, loaded.params) == (algorithm, model.params)
        history = np.array([1, 4])
        assert loaded.scores(history) == pytest.approx(model.scores(history))
        assert [w.tolist() for w in loaded.explain(history, np.array([0, 2]))] == \
            [w.tolist() for w in model.explain(history, np.array([0, 2]))]


def test_ease_head_is_dense_ease_on_the_popular_items_pruned_and_embedded(monkeypatch):
    # Items 0..3 liked by 4, 3, 2, 1 users; a head of 3 leaves item 3 to other models.
    likes = sp.csr_matrix(np.array([[1, 1, 1, 0], [1, 1, 0, 0], [1, 1, 1, 0], [1, 0, 0, 1]],
                                   dtype=np.float32))
    ids = ["a", "b", "c", "d"]
    full = fit("ease", likes[:, :3], ids[:3], {"l2": 1.0}).weights
    head = fit("ease", likes, ids, {"l2": 1.0, "max_items": 3, "neighbours": 1})
    assert head.params == {"l2": 1.0, "max_items": 3, "neighbours": 1}
    dense = head.weights.toarray()
    assert dense[3].tolist() == [0, 0, 0, 0] and dense[:, 3].tolist() == [0, 0, 0, 0]
    for row in range(3):  # each row keeps only its largest positive weight
        best = int(np.argmax(full[row]))
        assert dense[row, best] == pytest.approx(full[row, best])
        assert np.count_nonzero(dense[row]) == 1


def test_ease_head_gram_is_the_whole_grams_block_with_or_without_a_cache():
    """The head's Gram is summed over its columns alone unless the whole Gram is cached:
    the same entries, so the same weights either way."""
    rng = np.random.default_rng(1)
    likes = sp.csr_matrix((rng.random((300, 40)) < 0.15).astype(np.float32))
    ids = [f"p{i}" for i in range(40)]
    head = algorithms.ease_head(likes, 12)
    whole = gram.sparse_gram(likes)[head][:, head].toarray()
    assert np.array_equal(algorithms.head_gram(likes, head).toarray(), whole)
    params = {"l2": 3.0, "max_items": 12, "neighbours": 5}
    plain = fit("ease", likes, ids, params).weights.toarray()
    for warm in (False, True):
        cache = gram.GramCache(likes)
        if warm:
            gram.sparse_gram(likes, 0.0, cache)
        assert np.array_equal(fit("ease", likes, ids, params, cache).weights.toarray(), plain)
        assert ("head gram", 12) in cache or warm
    # User-weighted, n_u counts every item of a listener, not only the head's.
    weighted = gram.sparse_gram(likes, 0.5)[head][:, head].toarray()
    assert np.array_equal(algorithms.head_gram(likes, head, 0.5).toarray(), weighted)
    assert not np.allclose(gram.sparse_gram(likes[:, head], 0.5).toarray(), weighted)


def test_time_budget_stops_the_search_after_the_first_candidate():
    rng = np.random.default_rng(0)
    likes = sp.csr_matrix((rng.random((200, 30)) < 0.2).astype(np.float32))
    train, _ = holdout_split(likes, seed=0)
    lines = []
    started = time.monotonic()
    choice = tuning.choose(train, [f"p{i}" for i in range(30)], progress=lines.append,
                           time_budget=0.0)
    assert time.monotonic() - started < 30
    tried = [line for line in lines if line.startswith("[")]
    assert len(tried) == 1 and choice.algorithm == "ease"
    assert any("time budget" in line for line in lines)
    assert choice.search == {"candidates": 1, "fresh_fold_fits": 0, "cut_by": "time budget"}
    assert algorithms.EASE_MAX_ITEMS >= 4096


def test_item_item_blend_puts_both_matrices_on_one_scale_then_mixes():
    # unit_scale: 1 / mean of the positive row maxima, here rows with max 2 and 4: 1 / 3.
    assert algorithms.unit_scale(np.array([[0, 2.0], [4.0, 0], [0, 0]])) == pytest.approx(1 / 3)
    rng = np.random.default_rng(5)
    likes = sp.csr_matrix((rng.random((50, 12)) < 0.3).astype(np.float32))
    ids = [f"p{i}" for i in range(12)]
    ease = fit("ease", likes, ids, {"l2": 3.0}).weights
    walk = fit("rp3beta", likes, ids, {"alpha": 1.0, "beta": 0.2}).weights.toarray()
    model = fit("blend", likes, ids, {"base": "ease", "base_params": {"l2": 3.0},
                                      "partner": "rp3beta", "blend": 0.4,
                                      "partner_params": {"alpha": 1.0, "beta": 0.2}})
    ease_max, walk_max = ease.max(axis=1), walk.max(axis=1)
    expected = 0.6 * ease / ease_max[ease_max > 0].mean() \
        + 0.4 * walk / walk_max[walk_max > 0].mean()
    assert model.weights.toarray() == pytest.approx(expected, abs=1e-5)
    assert model.factors is None and model.params["partner"] == "rp3beta"


def test_candidate_budget_bounds_the_search_whatever_the_time():
    rng = np.random.default_rng(0)
    likes = sp.csr_matrix((rng.random((200, 30)) < 0.2).astype(np.float32))
    train, _ = holdout_split(likes, seed=0)
    runs = []
    for _ in range(2):
        lines = []
        choice = tuning.choose(train, [f"p{i}" for i in range(30)], progress=lines.append,
                               time_budget=None, max_candidates=3)
        tried = [line for line in lines if line.startswith("[") and not line.startswith("[fold")]
        assert len(tried) == 3
        assert any("candidate budget spent" in line for line in lines)
        assert choice.search["cut_by"] == "candidate budget"
        assert choice.search["candidates"] == 3
        runs.append((choice.algorithm, choice.params, choice.validation))
    assert runs[0] == runs[1]
    whole = tuning.choose(train, [f"p{i}" for i in range(30)], time_budget=None)
    assert "cut_by" not in whole.search and 3 < whole.search["candidates"] <= 60
