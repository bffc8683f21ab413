"""Fitters: each turns a binary user x item matrix into an `ItemItemModel`.

- popularity: no weights, the baseline and the cold-start fallback.
- itemknn: cosine similarity between item columns, pruned to the top neighbours.
- ease: Steck's closed-form linear item-item model, with EDLAE's popularity-scaled ridge
  (`dropout` > 0, Steck 2020) which keeps popular items from dominating; dense, so only for
  catalogues up to EASE_MAX_ITEMS.
- rp3beta: random walk item -> user -> item with popularity damping; sparse, for large catalogues.

itemknn and rp3beta are both rescaled co-occurrence counts, so they start from one sparse Gram
matrix X' diag(w) X; a `GramCache` lets a settings search compute it once per user weighting.
"""
from __future__ import annotations

from typing import Callable

import numpy as np
import scipy.sparse as sp

from bento.recsys.model import ItemItemModel

# A dense n x n float64 inverse costs 8 n^2 bytes and O(n^3) time: past this, go sparse.
EASE_MAX_ITEMS = 6000
BLOCK_ROWS = 1024


class GramCache(dict):
    """Sparse Gram matrices of one user x item matrix, keyed by the user-weight exponent."""

    def __init__(self, user_items: sp.csr_matrix):
        super().__init__()
        self.user_items = user_items


def item_popularity(user_items: sp.csr_matrix) -> np.ndarray:
    """How many users touched each item."""
    return np.asarray((user_items > 0).sum(axis=0), dtype=np.float32).ravel()


def sparse_gram(user_items: sp.csr_matrix, user_exponent: float = 0.0,
                cache: GramCache | None = None) -> sp.csr_matrix:
    """G[i, j] = sum over users u who have both i and j of n_u ** -user_exponent (CSR, float32)."""
    if cache is not None and cache.user_items is user_items and user_exponent in cache:
        return cache[user_exponent]
    binary = (user_items > 0).astype(np.float32).tocsr()
    weighted = binary
    if user_exponent:
        per_user = np.diff(binary.indptr).astype(np.float32)
        scale = np.power(np.maximum(per_user, 1.0), -user_exponent, dtype=np.float32)
        weighted = sp.csr_matrix(sp.diags(scale) @ binary)
    gram = (weighted.T.tocsr() @ binary).tocsr()
    if cache is not None and cache.user_items is user_items:
        cache[user_exponent] = gram
    return gram


def prune_to_neighbours(block_rows: Callable[[int, int], np.ndarray], n_items: int,
                        neighbours: int) -> sp.csr_matrix:
    """Keep each row's `neighbours` largest positive weights, computing rows block by block
    so a 20k-item catalogue never needs a dense n x n matrix."""
    keep = max(1, min(neighbours, n_items - 1))
    rows, cols, vals = [], [], []
    for start in range(0, n_items, BLOCK_ROWS):
        stop = min(start + BLOCK_ROWS, n_items)
        block = np.asarray(block_rows(start, stop), dtype=np.float32)
        block[np.arange(stop - start), np.arange(start, stop)] = 0.0
        top = np.argpartition(-block, keep - 1, axis=1)[:, :keep]
        top_vals = np.take_along_axis(block, top, axis=1)
        positive = top_vals > 0
        rows.append(np.nonzero(positive)[0] + start)
        cols.append(top[positive])
        vals.append(top_vals[positive])
    return sp.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                         shape=(n_items, n_items), dtype=np.float32)


def fit_popularity(user_items: sp.csr_matrix, item_ids: list[str],
                   cache: GramCache | None = None) -> ItemItemModel:
    return ItemItemModel(item_ids, item_popularity(user_items))


def fit_itemknn(user_items: sp.csr_matrix, item_ids: list[str], neighbours: int = 100,
                shrink: float = 0.0, cache: GramCache | None = None) -> ItemItemModel:
    """Cosine between item columns; `shrink` damps similarities built on few co-occurrences."""
    co_counts = sparse_gram(user_items, 0.0, cache)
    norms = np.sqrt(np.maximum(co_counts.diagonal(), 1e-12)).astype(np.float32)

    def block_rows(start: int, stop: int) -> np.ndarray:
        support = co_counts[start:stop].toarray()
        cosine = support / norms[start:stop, None] / norms[None, :]
        if shrink > 0:
            cosine *= support / (support + shrink)
        return cosine

    weights = prune_to_neighbours(block_rows, len(item_ids), neighbours)
    return ItemItemModel(item_ids, item_popularity(user_items), weights, "itemknn",
                         {"neighbours": neighbours, "shrink": shrink})


def fit_ease(user_items: sp.csr_matrix, item_ids: list[str], l2: float = 500.0,
             dropout: float = 0.0, cache: GramCache | None = None) -> ItemItemModel:
    """B = I - P diagMat(1 / diag(P)), P = (G + l2 I + dropout / (1 - dropout) diagMat(G))^-1,
    diagonal forced to zero. dropout = 0 is plain EASE; above it is EDLAE."""
    n_items = len(item_ids)
    if n_items > EASE_MAX_ITEMS:
        raise ValueError(f"EASE needs a dense {n_items}x{n_items} matrix; "
                         f"use rp3beta or itemknn above {EASE_MAX_ITEMS} items")
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"dropout must be in [0, 1), got {dropout}")
    gram = sparse_gram(user_items, 0.0, cache).toarray().astype(np.float64)
    diagonal = np.diag_indices(n_items)
    gram[diagonal] += l2 + dropout / (1.0 - dropout) * gram[diagonal]
    precision = np.linalg.inv(gram)
    weights = precision / -np.diag(precision)
    weights[diagonal] = 0.0
    params = {"l2": l2} if dropout == 0.0 else {"l2": l2, "dropout": dropout}
    return ItemItemModel(item_ids, item_popularity(user_items), weights.astype(np.float32),
                         "ease", params)


def fit_rp3beta(user_items: sp.csr_matrix, item_ids: list[str], alpha: float = 1.0,
                beta: float = 0.5, neighbours: int = 200,
                cache: GramCache | None = None) -> ItemItemModel:
    """W[i, j] = sum_u P(u|i)^a P(j|u)^a / pop(j)^beta (Paudel et al., 2017), pruned per row.

    With binary X, P(u|i) = 1/pop(i) and P(j|u) = 1/n_u, so W = pop^-a (X' n^-a X) pop^-beta."""
    popularity = item_popularity(user_items)
    safe = np.maximum(popularity, 1.0)
    row_scale = np.power(safe, -alpha).astype(np.float32)
    column_scale = np.power(safe, -beta).astype(np.float32)
    walks = sparse_gram(user_items, alpha, cache)

    def block_rows(start: int, stop: int) -> np.ndarray:
        return walks[start:stop].toarray() * row_scale[start:stop, None] * column_scale

    weights = prune_to_neighbours(block_rows, len(item_ids), neighbours)
    return ItemItemModel(item_ids, popularity, weights, "rp3beta",
                         {"alpha": alpha, "beta": beta, "neighbours": neighbours})


FITTERS = {
    "popularity": fit_popularity,
    "itemknn": fit_itemknn,
    "ease": fit_ease,
    "rp3beta": fit_rp3beta,
}


def fit(algorithm: str, user_items: sp.csr_matrix, item_ids: list[str],
        params: dict | None = None, cache: GramCache | None = None) -> ItemItemModel:
    """Fit `algorithm` with `params` on a binary user x item matrix (`cache`: reuse Grams)."""
    if algorithm not in FITTERS:
        raise ValueError(f"unknown algorithm {algorithm!r}; choose from {sorted(FITTERS)}")
    return FITTERS[algorithm](user_items, item_ids, **(params or {}), cache=cache)
