"""The quality work: sparse fitters against dense references, EDLAE and popularity damping,
the fast top-k, and the settings search (seconds in total)."""
from __future__ import annotations

import ast

import numpy as np
import pytest
import scipy.sparse as sp

from bento.recsys import algorithms, tuning
from bento.recsys.algorithms import fit
from bento.recsys.gram import GramCache, keep_top_per_row, sparse_gram
from bento.recsys.evaluation import holdout_split, top_k_per_row
from bento.recsys.tuning import Choice, better, choose

RNG = np.random.default_rng(3)
X = sp.csr_matrix((RNG.random((60, 25)) < 0.2).astype(np.float32))
IDS = [f"i{n}" for n in range(25)]


def dense_top(dense: np.ndarray, keep: int) -> np.ndarray:
    """Reference pruning: per row, the `keep` largest positive off-diagonal entries."""
    dense = dense.copy()
    np.fill_diagonal(dense, 0.0)
    out = np.zeros_like(dense)
    for row in range(dense.shape[0]):
        order = np.argsort(-dense[row], kind="stable")[:keep]
        order = order[dense[row, order] > 0]
        out[row, order] = dense[row, order]
    return out


def assert_same_top(pruned: sp.csr_matrix, dense: np.ndarray, keep: int) -> None:
    """Row by row the same kept values (ties may pick either column), each at its true place."""
    pruned, expected = pruned.toarray(), dense_top(dense, keep)
    assert np.sort(pruned, 1) == pytest.approx(np.sort(expected, 1), abs=1e-6)
    kept = pruned != 0
    assert pruned[kept] == pytest.approx(dense[kept], abs=1e-6)


def test_keep_top_per_row_matches_a_dense_reference_with_ties():
    dense = np.round(RNG.random((30, 30)), 1) * (RNG.random((30, 30)) < 0.5)
    pruned = keep_top_per_row(sp.csr_matrix(dense), 4).toarray()
    assert pruned == pytest.approx(dense_top(dense, 4))


def test_itemknn_and_rp3beta_equal_their_dense_formulas():
    binary = X.toarray().astype(np.float64)
    gram, pop, per_user = binary.T @ binary, binary.sum(0), binary.sum(1)
    norms = np.sqrt(np.maximum(np.diag(gram), 1e-12))
    cosine = gram / norms[:, None] / norms[None, :] * gram / (gram + 5.0)
    model = fit("itemknn", X, IDS, {"neighbours": 6, "shrink": 5.0})
    assert_same_top(model.weights, cosine, 6)
    item_to_user = (binary / np.maximum(pop, 1)).T ** 0.7
    walk = item_to_user @ (binary / np.maximum(per_user, 1)[:, None]) ** 0.7
    walk *= np.maximum(pop, 1)[None, :] ** -0.3
    model = fit("rp3beta", X, IDS, {"alpha": 0.7, "beta": 0.3, "neighbours": 5})
    assert_same_top(model.weights, walk, 5)


def test_edlae_solves_its_normal_equations_and_beta_damps_popular_columns():
    l2, dropout = 2.0, 0.25
    model = fit("ease", X, IDS, {"l2": l2, "dropout": dropout})
    weights = model.weights.astype(np.float64)
    gram = (X.T @ X).toarray()
    ridge = np.diag(l2 + dropout / (1 - dropout) * np.diag(gram))
    residual = (gram + ridge) @ weights - gram
    assert residual[~np.eye(25, dtype=bool)] == pytest.approx(np.zeros(600), abs=1e-4)
    assert np.diag(weights) == pytest.approx(np.zeros(25))
    damped = fit("ease", X, IDS, {"l2": l2, "dropout": dropout, "beta": 0.5})
    scale = np.maximum(model.popularity, 1.0) ** -0.5
    assert damped.weights == pytest.approx(model.weights * scale[None, :], abs=1e-6)
    assert damped.params == {"l2": l2, "dropout": dropout, "beta": 0.5}
    assert fit("ease", X, IDS, {"l2": l2}).params == {"l2": l2}
    with pytest.raises(ValueError, match="dropout"):
        fit("ease", X, IDS, {"dropout": 1.0})


def test_gram_cache_is_reused_only_for_its_own_matrix():
    cache = GramCache(X)
    assert sparse_gram(X, 0.5, cache) is sparse_gram(X, 0.5, cache)
    other = X.copy()
    assert sparse_gram(other, 0.5, cache) is not sparse_gram(other, 0.5, cache)


def test_top_k_per_row_equals_a_stable_full_sort():
    scores = RNG.integers(0, 4, (40, 300)).astype(np.float32)
    scores[:, :7] = -np.inf
    assert (top_k_per_row(scores, 10) == np.argsort(-scores, 1, kind="stable")[:, :10]).all()
    small = RNG.random((5, 6)).astype(np.float32)
    assert (top_k_per_row(small, 10) == np.argsort(-small, 1, kind="stable")).all()


def test_near_ties_prefer_coverage_and_clear_wins_prefer_ndcg():
    best = Choice("ease", {}, {"ndcg": 0.300, "coverage": 0.2})
    assert better({"ndcg": 0.2999, "coverage": 0.3}, best)
    assert not better({"ndcg": 0.2999, "coverage": 0.1}, best)
    assert not better({"ndcg": 0.290, "coverage": 0.9}, best)
    assert better({"ndcg": 0.310, "coverage": 0.1}, best)


def test_finalists_are_the_candidates_near_the_top_of_any_family_best_first():
    # Top 0.302: within 1% means NDCG >= 0.29898; five qualify, the best four go on, two of
    # them ease settings.
    metrics = {key: (name, {"key": key}, {"ndcg": ndcg}) for key, name, ndcg in (
        ("a", "ease", 0.300), ("b", "ials", 0.2995), ("c", "blend", 0.302),
        ("d", "ease", 0.2990), ("e", "itemknn", 0.2988), ("f", "ials", 0.29))}
    assert [params["key"] for _, params, _ in tuning.finalists_of(metrics)] == \
        ["c", "a", "b", "d"]
    assert tuning.finalists_of({"a": ("ease", {}, {"ndcg": 0.3})}) == [("ease", {}, {"ndcg": 0.3})]
    assert tuning.finalists_of({}) == []


def test_the_confirmed_best_weighs_recall_and_ndcg_alike_relative_to_the_best():
    means = [{"recall": 0.50, "ndcg": 0.400, "coverage": 0.9},   # 0.980 + 1.000 = 1.980
             {"recall": 0.51, "ndcg": 0.396, "coverage": 0.1},   # 1.000 + 0.990 = 1.990
             {"recall": 0.51, "ndcg": 0.390, "coverage": 0.5}]   # 1.000 + 0.975 = 1.975
    assert tuning.confirmed_best(means) == 1  # more coverage does not count
    assert tuning.confirmed_best([means[0], dict(means[0])]) == 0  # ties: the earlier


def scored(lines: list[str], fresh: bool) -> dict[str, list[float]]:
    """NDCG by 'name params' from the search's progress lines of the first or the fresh folds."""
    found: dict[str, list[float]] = {}
    for line in lines:
        if line.startswith("[") and line.startswith("[fold-") == fresh:
            candidate, ndcg = line.split(maxsplit=1)[1].rsplit(": ndcg@10=", 1)
            found.setdefault(candidate, []).append(float(ndcg.split()[0]))
    return found


def test_near_finalists_are_scored_on_fresh_folds_and_their_mean_alone_decides():
    rng = np.random.default_rng(0)
    taste = rng.integers(0, 4, 300)
    likes = rng.random((300, 40)) < np.where(np.arange(40) % 4 == taste[:, None], 0.5, 0.03)
    train, _ = holdout_split(sp.csr_matrix(likes.astype(np.float32)), seed=0)
    lines = []
    choice = choose(train, [f"p{n}" for n in range(40)], seed=1, progress=lines.append)
    first, fresh = scored(lines, False), scored(lines, True)
    assert 2 <= len(fresh) <= tuning.CONFIRM_FINALISTS and set(fresh) <= set(first)
    assert all(len(ndcgs) == tuning.CONFIRM_FOLDS for ndcgs in fresh.values())
    chosen = f"{choice.algorithm} {choice.params}"
    assert choice.validation["ndcg"] == pytest.approx(np.mean(fresh[chosen]), abs=1e-4)
    # no more ials factors than items: 40 items stop the factor line at its first value
    assert not any("'factors': 128" in line for line in lines)


def test_a_budget_spent_during_the_fresh_folds_leaves_the_whole_folds_done_to_decide(
        monkeypatch):
    rng = np.random.default_rng(0)
    taste = rng.integers(0, 4, 300)
    likes = rng.random((300, 40)) < np.where(np.arange(40) % 4 == taste[:, None], 0.5, 0.03)
    train, _ = holdout_split(sp.csr_matrix(likes.astype(np.float32)), seed=0)
    ids = [f"p{n}" for n in range(40)]
    lines = []
    search = tuning.Search(train, ids, 10, 1, 5000, lines.append)
    for name in tuning.candidate_algorithms("auto", len(ids)):
        tuning.SEARCHES[name](search)
    # the budget runs out once the third fold's first finalist is scored: that fold is dropped
    monkeypatch.setattr(tuning.Search, "out_of_time",
                        lambda self: any(line.startswith("[fold-3]") for line in lines))
    choice = search.confirm()
    second = {line.split(maxsplit=1)[1].rsplit(": ndcg@10=", 1)[0]:
              float(line.rsplit("ndcg@10=", 1)[1].split()[0])
              for line in lines if line.startswith("[fold-2]")}
    assert len(second) >= 2 and sum(line.startswith("[fold-3]") for line in lines) == 1
    assert choice.validation["ndcg"] == pytest.approx(
        second[f"{choice.algorithm} {choice.params}"], abs=1e-4)


def test_a_path_is_tried_in_order_until_two_in_a_row_fall_below_the_best():
    search = tuning.Search(X, IDS, 10, 0, 100, lambda _: None)
    ndcg = {1: 0.2, 2: 0.3, 3: 0.25, 4: 0.28, 5: 0.9}
    tried = []
    search.score = lambda name, params: tried.append(params["m"]) or ndcg[params["m"]]
    assert search.path("ials", [{"m": m} for m in (1, 2, 3, 4, 5)]) == {"m": 2}
    assert tried == [1, 2, 3, 4]


def test_ials_search_moves_regularization_and_confidence_together():
    """After one line each, both are scaled by 3 at once (the pairs that score alike lie on a
    diagonal)."""
    rng = np.random.default_rng(0)
    taste = rng.integers(0, 4, 300)
    likes = rng.random((300, 40)) < np.where(np.arange(40) % 4 == taste[:, None], 0.5, 0.03)
    train, _ = holdout_split(sp.csr_matrix(likes.astype(np.float32)), seed=0)
    lines = []
    choose(train, [f"p{n}" for n in range(40)], "ials", seed=1, progress=lines.append)
    tried = {(p["regularization"], p["confidence"]) for p in (
        ast.literal_eval(line.split(" ", 2)[2].rsplit(": ndcg", 1)[0]) for line in lines
        if line.startswith("[") and not line.startswith("[fold-"))}
    lined = [(reg, confidence) for reg, confidence in tried
             if reg in (1.0, 10.0, 0.1, 100.0) and confidence in (10.0, 3.0, 30.0, 1.5)]
    assert any((3 * reg, 3 * confidence) in tried for reg, confidence in lined)


def test_auto_search_is_seeded_and_goes_sparse_past_the_dense_limit(monkeypatch):
    rng = np.random.default_rng(0)
    taste = rng.integers(0, 4, 300)
    likes = rng.random((300, 40)) < np.where(np.arange(40) % 4 == taste[:, None], 0.5, 0.03)
    train, _ = holdout_split(sp.csr_matrix(likes.astype(np.float32)), seed=0)
    ids = [f"p{n}" for n in range(40)]
    first, again = choose(train, ids, seed=1), choose(train, ids, seed=1)
    assert (first.algorithm, first.params) == (again.algorithm, again.params)
    assert first.validation["ndcg"] > 0.2  # clusters are easy: far above random (~0.03)
    monkeypatch.setattr(tuning, "EASE_MAX_ITEMS", 39)
    monkeypatch.setattr(algorithms, "EASE_MAX_ITEMS", 39)
    lines = []
    past = choose(train, ids, seed=1, progress=lines.append)
    tried = {line.split()[1] for line in lines if line.startswith("[")}
    assert {"ease", "rp3beta", "itemknn", "ials", "blend"} <= tried
    assert any(line.startswith("ease: dense over the 39 most popular") for line in lines)
    assert past.validation["ndcg"] > 0.2
    with pytest.raises(ValueError, match="unknown algorithm"):
        choose(train, ids, "nope")
