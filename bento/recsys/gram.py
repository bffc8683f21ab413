"""The sparse item-item Gram matrix X' diag(w) X every item-item fitter starts from, summed by
the active engine (`stats`: this process or Spark), and the row operations on it. A
`GramCache` lets a settings search compute a Gram in this process once per user weighting."""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from bento.recsys import stats


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
    gram = stats.gram(user_items, user_exponent)  # summed by the active engine
    if cache is not None and cache.user_items is user_items:
        cache[user_exponent] = gram
    return gram


def gram_rows(user_items: sp.csr_matrix, user_exponent: float, rows,
              cache: GramCache | None = None) -> sp.csr_matrix:
    """`rows(G)` for a function `rows` of any block of the Gram's rows: by the active engine
    where it sums G away from this process (Spark: beside each block of summed rows, so only
    what `rows` keeps comes back), else on the (cached) Gram here."""
    cached = cache is not None and cache.user_items is user_items and user_exponent in cache
    if stats.distributed() and not cached:
        return stats.gram(user_items, user_exponent, rows)
    return rows(sparse_gram(user_items, user_exponent, cache))


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
