"""Fitters: each turns a user x item matrix (binary, or confidence per entry: play counts,
`bento.playcounts`) into an `ItemItemModel`.

- popularity: no weights, the baseline and the cold-start fallback.
- itemknn: cosine similarity between item columns, read off the sparse Gram matrix that
  `stats` sums (in this process or on Spark), pruned to the top neighbours.
- ease: Steck's closed-form linear item-item model, with EDLAE's popularity-scaled ridge
  (`dropout` > 0, Steck 2020) which keeps popular items from dominating, optionally on a
  user-weighted Gram (`user_exponent` > 0: a listener of n items counts n^-g, so heavy
  listeners do not dominate the co-occurrences; Park et al. 2025's user normalisation).
  Dense over the catalogue while it fits the memory budget; past it, dense over the
  `max_items` most popular items (the ones with enough support), each row pruned to its top
  neighbours and stored sparse, the tail left to a sparse model or ials in a blend.
- rp3beta: random walk item -> user -> item with popularity damping; sparse, for large catalogues.
- ials: implicit-feedback matrix factorisation; the listener's vector is folded in at serve time.
- blend: an item-item model (`base`) mixed with ials or a second item-item model (`partner`),
  the partner's share of the score being `blend`.

itemknn and rp3beta rescale and prune the rows of a sparse Gram matrix X' diag(w) X, one row
at a time (`itemknn_rows`, `rp3beta_rows`): `gram.gram_rows` runs them where the active engine
sums the Gram (Spark: beside each block of rows).
"""
from __future__ import annotations

from functools import partial

import numpy as np
import scipy.sparse as sp

from bento.recsys import stats
from bento.recsys.factors import fit_factors
from bento.recsys.gram import (GramCache, gram_rows, item_popularity, keep_top_per_row, scaled,
                               sparse_gram)
from bento.recsys.model import ItemItemModel

# Dense EASE holds a float64 Gram matrix and its inverse, 16 n^2 bytes, and costs n^3 time per
# setting tried: this budget gives 4,096 items, an inverse of a few seconds on 2 cores (8,192
# took minutes per setting on the shared benchmark machine).
EASE_MEMORY_BUDGET = 1 << 28
EASE_MAX_ITEMS = int((EASE_MEMORY_BUDGET / 16) ** 0.5)
EASE_HEAD_NEIGHBOURS = 200


def fit_popularity(user_items: sp.csr_matrix, item_ids: list[str],
                   cache: GramCache | None = None) -> ItemItemModel:
    return ItemItemModel(item_ids, item_popularity(user_items))


def itemknn_rows(gram: sp.csr_matrix, popularity: np.ndarray, neighbours: int,
                 shrink: float) -> sp.csr_matrix:
    """itemknn's weights from any block of the Gram's rows (the other rows empty): the cosine
    G[i, j] / sqrt(pop(i) pop(j)) (on binary columns |x_i|^2 = G[i, i] = pop(i)), damped by
    G / (G + shrink) for pairs few listeners share, each row's top `neighbours` kept."""
    inverse_norms = 1.0 / np.sqrt(np.maximum(popularity.astype(np.float64), 1e-12))
    cosine = scaled(gram, inverse_norms, inverse_norms)
    if shrink > 0:
        cosine.data *= gram.data / (gram.data + np.float32(shrink))
    return keep_top_per_row(cosine, neighbours)


def fit_itemknn(user_items: sp.csr_matrix, item_ids: list[str], neighbours: int = 100,
                shrink: float = 0.0, cache: GramCache | None = None) -> ItemItemModel:
    """Cosine between item columns; `shrink` damps similarities built on few co-occurrences.
    The norms are the columns' squared sums: pop(i) on binary data, and right on confidence."""
    popularity = item_popularity(user_items)
    norms = np.asarray(user_items.multiply(user_items).sum(axis=0), dtype=np.float32).ravel()
    weights = gram_rows(user_items, 0.0, partial(itemknn_rows, popularity=norms,
                                                 neighbours=neighbours, shrink=shrink), cache)
    return ItemItemModel(item_ids, popularity, weights, "itemknn",
                         {"neighbours": neighbours, "shrink": shrink})


def ease_head(user_items: sp.csr_matrix, max_items: int) -> np.ndarray | None:
    """The `max_items` most popular items (ascending index), or None when all of them fit."""
    if user_items.shape[1] <= max_items:
        return None
    popularity = item_popularity(user_items)
    return np.sort(np.argsort(-popularity, kind="stable")[:max_items])


def head_gram(user_items: sp.csr_matrix, head: np.ndarray, user_exponent: float = 0.0,
              cache: GramCache | None = None) -> sp.csr_matrix:
    """The Gram's head x head block: sliced from the cached whole Gram if there is one, else
    X_h' X_h over the head's columns alone (the same entries, at a fraction of the cost).
    User-weighted, it is sliced from the whole Gram: n_u counts all of a listener's items."""
    if user_exponent:
        return sparse_gram(user_items, user_exponent, cache)[head][:, head]
    cached = cache is not None and cache.user_items is user_items
    if cached and 0.0 in cache:
        return cache[0.0][head][:, head]
    key = ("head gram", head.size)
    if cached and key in cache:
        return cache[key]
    gram = stats.gram(user_items[:, head])  # summed by the active engine
    if cached:
        cache[key] = gram
    return gram


def user_weighted_l2(user_items: sp.csr_matrix, l2: float, user_exponent: float) -> float:
    """`l2` in the units of the unweighted Gram: times mean diag(G_g) / mean diag(G_0), where
    trace(G_g) = sum over users of n_u^(1 - g), so one l2 grid fits every exponent."""
    if not user_exponent:
        return l2
    per_user = np.diff(user_items.tocsr().indptr).astype(np.float64)
    per_user = per_user[per_user > 0]
    return l2 * float(np.power(per_user, 1.0 - user_exponent).sum() / max(per_user.sum(), 1.0))


def ease_weights(user_items: sp.csr_matrix, l2: float, dropout: float,
                 cache: GramCache | None = None, head: np.ndarray | None = None,
                 user_exponent: float = 0.0) -> np.ndarray:
    """B = I - P diagMat(1 / diag(P)), P = (G + l2 I + dropout / (1 - dropout) diagMat(G))^-1,
    diagonal forced to zero, over the `head` items only if given (head x head); G is the Gram
    with users weighted n_u^-user_exponent, l2 rescaled to its units (`user_weighted_l2`).
    dropout = 0 is plain EASE; above it is EDLAE."""
    n_items = user_items.shape[1] if head is None else head.size
    if n_items > EASE_MAX_ITEMS:
        raise ValueError(f"EASE needs a dense {n_items}x{n_items} matrix; at most "
                         f"{EASE_MAX_ITEMS} items fit the memory budget")
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"dropout must be in [0, 1), got {dropout}")
    key = ("ease", l2, dropout, n_items, user_exponent)
    if cache is not None and cache.user_items is user_items and key in cache:
        return cache[key]
    gram = sparse_gram(user_items, user_exponent, cache) if head is None else \
        head_gram(user_items, head, user_exponent, cache)
    gram = gram.toarray().astype(np.float64)
    diagonal = np.diag_indices(n_items)
    gram[diagonal] += user_weighted_l2(user_items, l2, user_exponent) \
        + dropout / (1.0 - dropout) * gram[diagonal]
    precision = np.linalg.inv(gram)
    weights = precision / -np.diag(precision)
    weights[diagonal] = 0.0
    weights = weights.astype(np.float32)
    if cache is not None and cache.user_items is user_items:
        for old in [name for name in cache if isinstance(name, tuple) and name[0] == "ease"]:
            del cache[old]  # one dense matrix at a time: 6000 items are 144 MB each
        cache[key] = weights
    return weights


def fit_ease(user_items: sp.csr_matrix, item_ids: list[str], l2: float = 500.0,
             dropout: float = 0.0, beta: float = 0.0, user_exponent: float = 0.0,
             max_items: int = EASE_MAX_ITEMS, neighbours: int = EASE_HEAD_NEIGHBOURS,
             cache: GramCache | None = None) -> ItemItemModel:
    """EASE/EDLAE; `beta` > 0 divides column j by pop(j)^beta, so a popular item needs more
    evidence to be recommended (more of the catalogue gets recommended); `user_exponent` > 0
    weighs listeners by n_u^-user_exponent. Over more than `max_items` items: EASE on the
    head, `neighbours` per row kept, sparse."""
    head = ease_head(user_items, min(max_items, EASE_MAX_ITEMS))
    weights = ease_weights(user_items, l2, dropout, cache, head, user_exponent)
    popularity = item_popularity(user_items)
    if beta:
        column_popularity = popularity if head is None else popularity[head]
        weights = weights * np.power(np.maximum(column_popularity, 1.0), -beta,
                                     dtype=np.float32)
    params = {"l2": l2}
    params.update({name: value for name, value in (("dropout", dropout), ("beta", beta),
                                                   ("user_exponent", user_exponent)) if value})
    if head is not None:
        weights = embed_pruned(weights, head, neighbours, user_items.shape[1])
        params.update(max_items=int(head.size), neighbours=neighbours)
    return ItemItemModel(item_ids, popularity, weights, "ease", params)


def embed_pruned(block: np.ndarray, head: np.ndarray, neighbours: int,
                 n_items: int) -> sp.csr_matrix:
    """A dense head x head block as a sparse n x n matrix, each row's `neighbours` largest
    positive weights kept (rows of the block taken in slices: no second dense copy)."""
    keep = max(1, min(neighbours, block.shape[1] - 1))
    rows, cols, values = [], [], []
    for start in range(0, block.shape[0], 1024):
        part = block[start:start + 1024]
        top = np.argpartition(-part, keep - 1, axis=1)[:, :keep]
        picked = np.take_along_axis(part, top, axis=1)
        row = np.repeat(np.arange(start, start + part.shape[0]), keep).reshape(top.shape)
        positive = picked > 0
        rows.append(head[row[positive]])
        cols.append(head[top[positive]])
        values.append(picked[positive])
    return sp.csr_matrix((np.concatenate(values), (np.concatenate(rows), np.concatenate(cols))),
                         shape=(n_items, n_items), dtype=np.float32)


def rp3beta_rows(walks: sp.csr_matrix, popularity: np.ndarray, alpha: float, beta: float,
                 neighbours: int) -> sp.csr_matrix:
    """rp3beta's weights from any block of the rows of X' n^-alpha X (the other rows empty):
    scaled by pop(i)^-alpha and pop(j)^-beta, each row's top `neighbours` kept."""
    safe = np.maximum(popularity, 1.0)
    row_scale = np.power(safe, -alpha).astype(np.float32)
    column_scale = np.power(safe, -beta).astype(np.float32)
    return keep_top_per_row(scaled(walks, row_scale, column_scale), neighbours)


def fit_rp3beta(user_items: sp.csr_matrix, item_ids: list[str], alpha: float = 1.0,
                beta: float = 0.5, neighbours: int = 200,
                cache: GramCache | None = None) -> ItemItemModel:
    """W[i, j] = sum_u P(u|i)^a P(j|u)^a / pop(j)^beta (Paudel et al., 2017), pruned per row.

    With binary X, P(u|i) = 1/pop(i) and P(j|u) = 1/n_u, so W = pop^-a (X' n^-a X) pop^-beta."""
    popularity = item_popularity(user_items)
    weights = gram_rows(user_items, alpha, partial(rp3beta_rows, popularity=popularity,
                                                   alpha=alpha, beta=beta,
                                                   neighbours=neighbours), cache)
    return ItemItemModel(item_ids, popularity, weights, "rp3beta",
                         {"alpha": alpha, "beta": beta, "neighbours": neighbours})


def ials_factors(user_items: sp.csr_matrix, factors: int, regularization: float,
                 confidence: float, cache: GramCache | None = None) -> np.ndarray:
    """Item factors, cached per setting: a blend search reuses the ials search's fits."""
    key = ("ials", factors, regularization, confidence)
    cached = cache is not None and cache.user_items is user_items
    if cached and key in cache:
        return cache[key]
    item_factors = fit_factors(user_items, factors, regularization, confidence)
    if cached:
        cache[key] = item_factors
    return item_factors


def fit_ials(user_items: sp.csr_matrix, item_ids: list[str], factors: int = 64,
             regularization: float = 1.0, confidence: float = 10.0,
             cache: GramCache | None = None) -> ItemItemModel:
    """iALS item factors; `confidence` weighs a positive against the implicit zeros."""
    params = {"factors": factors, "regularization": regularization, "confidence": confidence}
    item_factors = ials_factors(user_items, factors, regularization, confidence, cache)
    return ItemItemModel(item_ids, item_popularity(user_items), None, "ials", params,
                         item_factors)


def unit_scale(weights: sp.csr_matrix | np.ndarray) -> float:
    """1 / the mean of the rows' largest weight: puts two item-item models on one scale."""
    row_max = weights.max(axis=1)
    row_max = row_max.toarray().ravel() if sp.issparse(row_max) else np.asarray(row_max)
    positive = row_max[row_max > 0]
    return 1.0 / float(positive.mean()) if positive.size else 1.0


def fit_blend(user_items: sp.csr_matrix, item_ids: list[str], base: str, base_params: dict,
              blend: float, partner: str = "ials", partner_params: dict | None = None,
              cache: GramCache | None = None) -> ItemItemModel:
    """(1 - blend) * the item-item model `base` + blend * `partner`. With ials, the item-item
    part is sharp on well-supported items, the factors generalise to the long tail; with a
    sparse item-item partner (weights on one scale, then summed) it serves the items a pruned
    EASE head leaves out."""
    item_item = fit(base, user_items, item_ids, base_params, cache)
    other = fit(partner, user_items, item_ids, partner_params, cache)
    params = {"base": base, "base_params": item_item.params, "partner": partner,
              "partner_params": other.params, "blend": blend}
    if other.factors is not None:
        params.update(regularization=other.params["regularization"],
                      confidence=other.params["confidence"])
        return ItemItemModel(item_ids, item_item.popularity, item_item.weights, "blend",
                             params, other.factors)
    mixed = (1.0 - blend) * unit_scale(item_item.weights) * sp.csr_matrix(item_item.weights) \
        + blend * unit_scale(other.weights) * sp.csr_matrix(other.weights)
    return ItemItemModel(item_ids, item_item.popularity, sp.csr_matrix(mixed, dtype=np.float32),
                         "blend", params)


FITTERS = {
    "popularity": fit_popularity,
    "itemknn": fit_itemknn,
    "ease": fit_ease,
    "rp3beta": fit_rp3beta,
    "ials": fit_ials,
    "blend": fit_blend,
}


def fit(algorithm: str, user_items: sp.csr_matrix, item_ids: list[str],
        params: dict | None = None, cache: GramCache | None = None) -> ItemItemModel:
    """Fit `algorithm` with `params` on a binary user x item matrix (`cache`: reuse Grams)."""
    if algorithm not in FITTERS:
        raise ValueError(f"unknown algorithm {algorithm!r}; choose from {sorted(FITTERS)}")
    return FITTERS[algorithm](user_items, item_ids, **(params or {}), cache=cache)
