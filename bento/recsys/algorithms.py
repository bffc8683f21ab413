"""Fitters: each turns a binary user x item matrix into an `ItemItemModel`.

- popularity: no weights, the baseline and the cold-start fallback.
- itemknn: cosine similarity between item columns (scikit-learn), pruned to the top neighbours.
- ease: Steck's closed-form linear item-item model; dense, for catalogues up to a few thousand.
- rp3beta: random walk item -> user -> item with popularity damping; sparse, for large catalogues.
"""
from __future__ import annotations

from typing import Callable

import numpy as np
import scipy.sparse as sp
from sklearn.preprocessing import normalize

from bento.recsys.model import ItemItemModel

# A dense n x n float64 inverse costs 8 n^2 bytes and O(n^3) time: past this, go sparse.
EASE_MAX_ITEMS = 6000
BLOCK_ROWS = 1024


def item_popularity(user_items: sp.csr_matrix) -> np.ndarray:
    """How many users touched each item."""
    return np.asarray((user_items > 0).sum(axis=0), dtype=np.float32).ravel()


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


def fit_popularity(user_items: sp.csr_matrix, item_ids: list[str]) -> ItemItemModel:
    return ItemItemModel(item_ids, item_popularity(user_items))


def fit_itemknn(user_items: sp.csr_matrix, item_ids: list[str], neighbours: int = 100,
                shrink: float = 0.0) -> ItemItemModel:
    """Cosine between item columns; `shrink` damps similarities built on few co-occurrences."""
    item_vectors = normalize(user_items.T.tocsr().astype(np.float32), norm="l2", axis=1)
    co_counts = (user_items > 0).astype(np.float32).T.tocsr()

    def block_rows(start: int, stop: int) -> np.ndarray:
        cosine = (item_vectors[start:stop] @ item_vectors.T).toarray()
        if shrink > 0:
            support = (co_counts[start:stop] @ co_counts.T).toarray()
            cosine *= support / (support + shrink)
        return cosine

    weights = prune_to_neighbours(block_rows, len(item_ids), neighbours)
    return ItemItemModel(item_ids, item_popularity(user_items), weights, "itemknn",
                         {"neighbours": neighbours, "shrink": shrink})


def fit_ease(user_items: sp.csr_matrix, item_ids: list[str], l2: float = 500.0) -> ItemItemModel:
    """B = I - P diagMat(1 / diag(P)) with P = (X'X + l2 I)^-1, diagonal forced to zero."""
    n_items = len(item_ids)
    if n_items > EASE_MAX_ITEMS:
        raise ValueError(f"EASE needs a dense {n_items}x{n_items} matrix; "
                         f"use rp3beta or itemknn above {EASE_MAX_ITEMS} items")
    gram = (user_items.T @ user_items).toarray().astype(np.float64)
    gram[np.diag_indices(n_items)] += l2
    precision = np.linalg.inv(gram)
    weights = precision / -np.diag(precision)
    weights[np.diag_indices(n_items)] = 0.0
    return ItemItemModel(item_ids, item_popularity(user_items), weights.astype(np.float32),
                         "ease", {"l2": l2})


def fit_rp3beta(user_items: sp.csr_matrix, item_ids: list[str], alpha: float = 1.0,
                beta: float = 0.5, neighbours: int = 200) -> ItemItemModel:
    """W[i, j] = sum_u P(u|i)^a P(j|u)^a / pop(j)^beta (Paudel et al., 2017), pruned per row."""
    user_to_item = normalize(user_items, norm="l1", axis=1).astype(np.float32)
    item_to_user = normalize(user_items.T.tocsr(), norm="l1", axis=1).astype(np.float32)
    if alpha != 1.0:
        user_to_item.data **= alpha
        item_to_user.data **= alpha
    popularity = item_popularity(user_items)
    damping = np.power(np.maximum(popularity, 1.0), -beta).astype(np.float32)

    def block_rows(start: int, stop: int) -> np.ndarray:
        return (item_to_user[start:stop] @ user_to_item).toarray() * damping

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
        params: dict | None = None) -> ItemItemModel:
    """Fit `algorithm` with `params` on a binary user x item matrix."""
    if algorithm not in FITTERS:
        raise ValueError(f"unknown algorithm {algorithm!r}; choose from {sorted(FITTERS)}")
    return FITTERS[algorithm](user_items, item_ids, **(params or {}))
