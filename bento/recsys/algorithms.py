"""Fitters: each turns a binary user x item matrix into an `ItemItemModel`.

- popularity: no weights, the baseline and the cold-start fallback.
- itemknn: cosine similarity between item columns (scikit-learn, sparse in and out), pruned to
  the top neighbours.
- ease: Steck's closed-form linear item-item model, with EDLAE's popularity-scaled ridge
  (`dropout` > 0, Steck 2020) which keeps popular items from dominating; dense, so only for
  catalogues up to EASE_MAX_ITEMS.
- rp3beta: random walk item -> user -> item with popularity damping; sparse, for large catalogues.

rp3beta rescales co-occurrence counts, a sparse Gram matrix X' diag(w) X; a `GramCache` lets a
settings search compute it once per user weighting, and the item cosine once.
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from bento.recsys import stats
from bento.recsys.model import ItemItemModel

# A dense n x n float64 inverse costs 8 n^2 bytes and O(n^3) time: past this, go sparse.
EASE_MAX_ITEMS = 6000


class GramCache(dict):
    """Sparse Gram matrices of one user x item matrix, keyed by the user-weight exponent."""

    def __init__(self, user_items: sp.csr_matrix):
        super().__init__()
        self.user_items = user_items
        self.cosine: sp.csr_matrix | None = None


def item_popularity(user_items: sp.csr_matrix) -> np.ndarray:
    """How many users touched each item."""
    return np.asarray((user_items > 0).sum(axis=0), dtype=np.float32).ravel()


def sparse_gram(user_items: sp.csr_matrix, user_exponent: float = 0.0,
                cache: GramCache | None = None) -> sp.csr_matrix:
    """G[i, j] = sum over users u who have both i and j of n_u ** -user_exponent (CSR, float32)."""
    if cache is not None and cache.user_items is user_items and user_exponent in cache:
        return cache[user_exponent]
    gram = stats.gram(user_items, user_exponent)  # summed by the active engine
    if cache is not None and cache.user_items is user_items:
        cache[user_exponent] = gram
    return gram


def keep_top_per_row(weights: sp.csr_matrix, neighbours: int) -> sp.csr_matrix:
    """Keep each row's `neighbours` largest positive off-diagonal weights (ties: lower column
    first), with one stable sort of all entries instead of a dense n x n matrix."""
    n_items = weights.shape[0]
    keep = max(1, min(neighbours, n_items - 1))
    coo = weights.tocoo()
    positive = (coo.data > 0) & (coo.row != coo.col)
    rows, cols, values = coo.row[positive], coo.col[positive], coo.data[positive]
    if rows.size == 0:
        return sp.csr_matrix((n_items, n_items), dtype=np.float32)
    row_max = np.zeros(n_items)
    np.maximum.at(row_max, rows, values)
    # Rows 2 apart and row-relative values in (0, 1]: sorting one float64 key groups each row,
    # largest first, and the stable sort keeps CSR's column order among ties.
    key = 2.0 * rows + (1.0 - values / row_max[rows])
    order = np.argsort(key, kind="stable")
    rows, cols, values = rows[order], cols[order], values[order]
    first = np.searchsorted(rows, np.arange(n_items))
    top = (np.arange(rows.size) - first[rows]) < keep
    return sp.csr_matrix((values[top], (rows[top], cols[top])), shape=(n_items, n_items),
                         dtype=np.float32)


def scaled(gram: sp.csr_matrix, row_scale: np.ndarray, column_scale: np.ndarray,
           ) -> sp.csr_matrix:
    """diag(row_scale) @ gram @ diag(column_scale), on the sparse entries only."""
    rows = np.repeat(np.arange(gram.shape[0]), np.diff(gram.indptr))
    data = gram.data * row_scale[rows] * column_scale[gram.indices]
    return sp.csr_matrix((data.astype(np.float32), gram.indices, gram.indptr), shape=gram.shape)


def fit_popularity(user_items: sp.csr_matrix, item_ids: list[str],
                   cache: GramCache | None = None) -> ItemItemModel:
    return ItemItemModel(item_ids, item_popularity(user_items))


def item_cosine(user_items: sp.csr_matrix, cache: GramCache | None = None) -> sp.csr_matrix:
    """Cosine between binary item columns, from the (sparse, never dense) Gram."""
    cached = cache is not None and cache.user_items is user_items
    if cached and cache.cosine is not None:
        return cache.cosine
    cosine = stats.cosine_from_gram(sparse_gram(user_items, 0.0, cache))
    if cached:
        cache.cosine = cosine
    return cosine


def fit_itemknn(user_items: sp.csr_matrix, item_ids: list[str], neighbours: int = 100,
                shrink: float = 0.0, cache: GramCache | None = None) -> ItemItemModel:
    """Cosine between item columns; `shrink` damps similarities built on few co-occurrences."""
    cosine = item_cosine(user_items, cache)
    if shrink > 0:
        # On binary columns x_i . x_j = cos(i, j) |x_i| |x_j|, and |x_i|^2 is i's popularity.
        root_popularity = np.sqrt(item_popularity(user_items))
        co_counts = scaled(cosine, root_popularity, root_popularity).data
        cosine = sp.csr_matrix((cosine.data * co_counts / (co_counts + shrink), cosine.indices,
                                cosine.indptr), shape=cosine.shape)
    weights = keep_top_per_row(cosine, neighbours)
    return ItemItemModel(item_ids, item_popularity(user_items), weights, "itemknn",
                         {"neighbours": neighbours, "shrink": shrink})


def ease_weights(user_items: sp.csr_matrix, l2: float, dropout: float,
                 cache: GramCache | None = None) -> np.ndarray:
    """B = I - P diagMat(1 / diag(P)), P = (G + l2 I + dropout / (1 - dropout) diagMat(G))^-1,
    diagonal forced to zero. dropout = 0 is plain EASE; above it is EDLAE."""
    n_items = user_items.shape[1]
    if n_items > EASE_MAX_ITEMS:
        raise ValueError(f"EASE needs a dense {n_items}x{n_items} matrix; "
                         f"use rp3beta or itemknn above {EASE_MAX_ITEMS} items")
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"dropout must be in [0, 1), got {dropout}")
    key = ("ease", l2, dropout)
    if cache is not None and cache.user_items is user_items and key in cache:
        return cache[key]
    gram = sparse_gram(user_items, 0.0, cache).toarray().astype(np.float64)
    diagonal = np.diag_indices(n_items)
    gram[diagonal] += l2 + dropout / (1.0 - dropout) * gram[diagonal]
    precision = np.linalg.inv(gram)
    weights = precision / -np.diag(precision)
    weights[diagonal] = 0.0
    weights = weights.astype(np.float32)
    if cache is not None and cache.user_items is user_items:
        for old in [name for name in cache if isinstance(name, tuple)]:
            del cache[old]  # one dense matrix at a time: 6000 items are 144 MB each
        cache[key] = weights
    return weights


def fit_ease(user_items: sp.csr_matrix, item_ids: list[str], l2: float = 500.0,
             dropout: float = 0.0, beta: float = 0.0,
             cache: GramCache | None = None) -> ItemItemModel:
    """EASE/EDLAE; `beta` > 0 divides column j by pop(j)^beta, so a popular item needs more
    evidence to be recommended (more of the catalogue gets recommended)."""
    weights = ease_weights(user_items, l2, dropout, cache)
    popularity = item_popularity(user_items)
    if beta:
        weights = weights * np.power(np.maximum(popularity, 1.0), -beta, dtype=np.float32)
    params = {"l2": l2}
    params.update({name: value for name, value in (("dropout", dropout), ("beta", beta))
                   if value})
    return ItemItemModel(item_ids, popularity, weights, "ease", params)


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
    weights = keep_top_per_row(scaled(walks, row_scale, column_scale), neighbours)
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
