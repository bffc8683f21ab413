"""The benchmark's contenders, each tuned on the same validation split carved from the training
part (never the test part) and scored by `bento.recsys.evaluation.evaluate`.

- popularity: the baseline.
- bento-auto: the trainer's default (`choose(..., "auto")` then `fit`), exactly as `bento.train`.
- ease-ref: a textbook EASE (Steck 2019, numpy/LAPACK) over the whole catalogue, its l2 picked
  from a wide grid.
- als: implicit's CPU ALS (2 threads), factors/regularization/alpha picked from a grid; a user's
  factors are solved from their history (`recalculate_user`), the way ALS folds in a user.
"""
from __future__ import annotations

import time

import numpy as np
import scipy.sparse as sp

from bento.recsys.algorithms import EASE_MAX_ITEMS, fit
from bento.recsys.evaluation import evaluate, holdout_split
from bento.recsys.tuning import FINALIST_WITHIN, MAX_FINALISTS, choose

K = 10
EVAL_MAX_USERS = 20_000
VALIDATION_MAX_USERS = 5_000
EASE_L2 = (10.0, 50.0, 100.0, 200.0, 500.0, 1000.0, 2000.0, 5000.0)
# Past the trainer's dense EASE a setting costs a 1-2 minute inverse here, so fewer; on citeulike-a
# the best lies low: 25 of 3..300 (100 of 100..3000 before).
EASE_L2_LARGE = (3.0, 6.0, 12.0, 25.0, 50.0, 100.0, 300.0)
ALS_THREADS = 2


class ScoredModel:
    """The part of `ItemItemModel` that `evaluate` uses, for models that are not item-item."""

    def __init__(self, n_items: int, batch_scores):
        self.n_items = n_items
        self.batch_scores = batch_scores


def reference_ease(train: sp.csr_matrix, l2: float) -> ScoredModel:
    """Steck's closed form B = I - P / diag(P), P = (X'X + l2 I)^-1, over the whole catalogue:
    float64 where the trainer's dense EASE fits (the figures this page always had), float32 past
    it (16,980 items: 1.1 GB per matrix, a Cholesky factor and inverse in place, ~1.5 min here)."""
    if train.shape[1] <= EASE_MAX_ITEMS:
        gram = (train.T @ train).toarray().astype(np.float64)
        gram[np.diag_indices_from(gram)] += l2
        precision = np.linalg.inv(gram)
    else:
        precision = large_precision(train, l2)
    weights = precision / -np.diag(precision)
    del precision
    np.fill_diagonal(weights, 0.0)
    weights = weights.astype(np.float32, copy=False)
    return ScoredModel(train.shape[1], lambda histories: np.asarray(histories @ weights))


def large_precision(train: sp.csr_matrix, l2: float) -> np.ndarray:
    """(X'X + l2 I)^-1 in float32 by LAPACK's Cholesky (potrf, potri), symmetrised."""
    from scipy.linalg import lapack

    gram = (train.T @ train).astype(np.float32).toarray()
    gram[np.diag_indices_from(gram)] += np.float32(l2)
    factor, info = lapack.spotrf(gram, lower=1, overwrite_a=1, clean=0)
    if info == 0:
        factor, info = lapack.spotri(factor, lower=1, overwrite_c=1)
    if info != 0:
        raise np.linalg.LinAlgError(f"LAPACK info {info} for l2={l2}")
    lower = np.tril(factor)
    del factor, gram
    lower += np.tril(lower, -1).T
    return lower


def implicit_als(train: sp.csr_matrix, factors: int, regularization: float,
                 alpha: float, seed: int) -> ScoredModel:
    from implicit.cpu.als import AlternatingLeastSquares

    model = AlternatingLeastSquares(factors=factors, regularization=regularization, alpha=alpha,
                                    iterations=15, num_threads=ALS_THREADS, random_state=seed)
    model.fit(train.tocsr(), show_progress=False)

    def batch_scores(histories: sp.csr_matrix) -> np.ndarray:
        users = model.recalculate_user(np.arange(histories.shape[0]), histories.tocsr())
        return users @ model.item_factors.T

    return ScoredModel(train.shape[1], batch_scores)


def als_grid(user_items: sp.csr_matrix) -> list[dict]:
    if user_items.nnz > 300_000:  # one fit takes tens of seconds here: a small grid
        return [{"factors": f, "regularization": 0.05, "alpha": a} for f in (64, 128)
                for a in (1.0, 10.0)]
    # up to 100: on ml-100k the default's own iALS search finds its best regularization at 30
    # (confidence 4.5), past the 0.01..1 this grid used to stop at
    return [{"factors": f, "regularization": r, "alpha": a} for f in (32, 64, 128)
            for r in (0.01, 0.1, 1.0, 10.0, 100.0) for a in (1.0, 10.0)]


def tune(train: sp.csr_matrix, grid: list[dict], build, seed: int) -> dict:
    """The grid point with the best validation NDCG@K, by the default's protocol: the whole
    grid on one fold, the best few (within FINALIST_WITHIN of the top) again on a second
    fold, the best mean NDCG over both wins."""
    folds = [holdout_split(train, seed=seed + 1), holdout_split(train, seed=seed + 2)]

    def ndcg(fold: int, params: dict) -> float:
        fit_part, validation = folds[fold]
        return evaluate(build(fit_part, params), fit_part, validation, K,
                        max_users=VALIDATION_MAX_USERS, seed=seed)["ndcg"]

    first = sorted(((ndcg(0, params), i) for i, params in enumerate(grid)), reverse=True)
    finalists = [(score, i) for score, i in first
                 if score >= first[0][0] * (1 - FINALIST_WITHIN)][:MAX_FINALISTS]
    if len(finalists) == 1:
        return grid[finalists[0][1]]
    return grid[max(finalists, key=lambda entry: entry[0] + ndcg(1, grid[entry[1]]))[1]]


def run(contender: str, user_items: sp.csr_matrix, item_ids: list[str], seed: int) -> dict:
    """Tune on validation, fit on train, evaluate on test; times in seconds."""
    train, test = holdout_split(user_items, seed=seed)
    started = time.perf_counter()
    if contender == "popularity":
        params, model = {}, fit("popularity", train, item_ids)
    elif contender == "bento-auto":
        choice = choose(train, item_ids, "auto", K, seed)
        params = {"algorithm": choice.algorithm, **choice.params}
        model = fit(choice.algorithm, train, item_ids, choice.params)
    elif contender == "ease-ref":
        grid = [{"l2": l2} for l2 in (EASE_L2 if len(item_ids) <= EASE_MAX_ITEMS
                                      else EASE_L2_LARGE)]
        params = tune(train, grid, lambda x, p: reference_ease(x, **p), seed)
        model = reference_ease(train, **params)
    elif contender == "als":
        params = tune(train, als_grid(train),
                      lambda x, p: implicit_als(x, seed=seed, **p), seed)
        model = implicit_als(train, seed=seed, **params)
    else:
        raise ValueError(f"unknown contender {contender!r}")
    fitted = time.perf_counter()
    metrics = evaluate(model, train, test, K, max_users=EVAL_MAX_USERS, seed=seed)
    return {"params": params, "fit_seconds": fitted - started,
            "total_seconds": time.perf_counter() - started, **metrics}
