"""A history-only recommender: every algorithm here reduces to an item-item weight matrix,
item factors (the listener's vector folded in from the history), or a blend of the two.

Scores come from a history (item indices) alone: `weights[history].sum(axis=0)` and/or
`factors @ fold_in(history)`, so a new like counts at once and a brand-new listener gets
personal results after one like. Popularity is the same interface with neither part.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from bento.recsys.factors import fold_in, fold_in_one, regularised_gram

ARRAYS_FILE = "arrays.npz"
CATALOGUE_FILE = "catalogue.json"
# Popularity breaks ties and fills slots the history says nothing about; small enough never to
# reorder items that have a real personal score.
TIE_BREAK = 1e-6


@dataclass
class ItemItemModel:
    """`weights[i, j]`: how much liking item i says about item j; `factors`: item vectors
    (items x f) with `params` regularization and confidence; with both, `params["blend"]` is
    the factor part's share of the score. Neither: popularity only."""

    item_ids: list[str]
    popularity: np.ndarray
    weights: sp.csr_matrix | np.ndarray | None = None
    algorithm: str = "popularity"
    params: dict = field(default_factory=dict)
    factors: np.ndarray | None = None

    def __post_init__(self) -> None:
        self.index = {item_id: i for i, item_id in enumerate(self.item_ids)}
        top = float(self.popularity.max()) if self.popularity.size else 1.0
        self.popularity_prior = (self.popularity / (top or 1.0)).astype(np.float32)
        self.share = 0.0
        if self.factors is not None:
            self.gram = regularised_gram(self.factors, self.params["regularization"])
            self.confidence = float(self.params["confidence"])
            self.share = float(self.params.get("blend", 1.0)) if self.weights is not None \
                else 1.0

    @property
    def personal(self) -> bool:
        return self.weights is not None or self.factors is not None

    @property
    def n_items(self) -> int:
        return len(self.item_ids)

    def known(self, ids: list[str]) -> tuple[np.ndarray, list[str]]:
        """Indices of the ids the model knows (order kept, deduplicated) and the unknown ids."""
        indices, unknown = [], []
        for item_id in dict.fromkeys(ids):
            position = self.index.get(item_id)
            if position is None:
                unknown.append(item_id)
            else:
                indices.append(position)
        return np.asarray(indices, dtype=np.int64), unknown

    def history_rows(self, history: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The stored entries of the history's weight rows as (row position, column, value):
        a gather over a few CSR rows, much cheaper than scipy's fancy row indexing."""
        weights = self.weights
        starts, ends = weights.indptr[history], weights.indptr[history + 1]
        lengths = ends - starts
        offsets = np.repeat(starts - np.cumsum(lengths) + lengths, lengths) \
            + np.arange(int(lengths.sum()))
        rows = np.repeat(np.arange(history.size), lengths)
        return rows, weights.indices[offsets], weights.data[offsets]

    def scores(self, history: np.ndarray) -> np.ndarray:
        """A score for every item given the history's item indices (float32, one row)."""
        if not self.personal or history.size == 0:
            return self.popularity_prior.copy()
        summed = np.zeros(self.n_items)
        if sp.issparse(self.weights):
            _, cols, vals = self.history_rows(history)
            summed = np.bincount(cols, weights=vals, minlength=self.n_items)
        elif self.weights is not None:
            summed = self.weights[history].sum(axis=0)
        if self.factors is not None:
            listener, _ = fold_in_one(self.factors, self.gram, self.confidence, history)
            summed = (1.0 - self.share) * summed \
                + self.share * (self.factors @ listener.astype(np.float32))
        return summed.astype(np.float32) + TIE_BREAK * self.popularity_prior

    def batch_scores(self, histories: sp.csr_matrix) -> np.ndarray:
        """Scores for many binary histories at once (users x items, dense), for evaluation."""
        if not self.personal:
            return np.tile(self.popularity_prior, (histories.shape[0], 1))
        if self.factors is not None:
            listeners = fold_in(self.factors, self.gram, self.confidence, histories)
            dense = (self.share * listeners) @ self.factors.T
        if self.weights is not None:
            product = histories @ self.weights
            product = product.toarray() if sp.issparse(product) else np.asarray(product)
            product = product.astype(np.float32, copy=False)
            if self.factors is None:
                dense = product  # 0 + (1 - 0) * product: the same, without two full temporaries
            else:
                dense += (1.0 - self.share) * product
        dense += TIE_BREAK * self.popularity_prior
        return dense

    def top_k(self, scores: np.ndarray, k: int, blocked: np.ndarray) -> np.ndarray:
        """Indices of the k best scores, best first, never one of `blocked`."""
        scores = scores.copy()
        scores[blocked] = -np.inf
        k = min(k, self.n_items - np.unique(blocked).size)
        if k <= 0:
            return np.empty(0, dtype=np.int64)
        # Item-item only: items the history says something about score above TIE_BREAK, every
        # other item at or below it: when k of them exist, the top k are among them, a far
        # smaller partition. Factor scores can be anything, so they take the full partition.
        candidates = np.flatnonzero(scores > TIE_BREAK)
        if self.factors is not None or candidates.size < k:
            candidates = np.arange(self.n_items)
        best = candidates[np.argpartition(-scores[candidates], k - 1)[:k]]
        return best[np.argsort(-scores[best], kind="stable")]

    def recommend(self, history: np.ndarray, k: int,
                  exclude: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Top-k item indices and their scores; history and excluded items never come back."""
        blocked = history if exclude is None else np.concatenate([history, exclude])
        scores = self.scores(history)
        items = self.top_k(scores, k, blocked.astype(np.int64))
        return items, scores[items]

    def similar_items(self, item: int, k: int) -> tuple[np.ndarray, np.ndarray]:
        return self.recommend(np.asarray([item], dtype=np.int64), k)

    def explain(self, history: np.ndarray, items: np.ndarray, n: int = 3) -> list[np.ndarray]:
        """For each item, up to n history indices that contributed most (positive only)."""
        if not self.personal or history.size == 0 or items.size == 0:
            return [np.empty(0, dtype=np.int64) for _ in items]
        contributions = self.contributions(history, items)
        order = np.argsort(-contributions, axis=0, kind="stable")[:n]
        return [history[order[:, col][contributions[order[:, col], col] > 0]]
                for col in range(items.size)]

    def contributions(self, history: np.ndarray, items: np.ndarray) -> np.ndarray:
        """history x items: each history item's additive share of each item's score."""
        contributions = np.zeros((history.size, items.size), dtype=np.float32)
        if sp.issparse(self.weights):
            rows, cols, vals = self.history_rows(history)
            column_of = np.full(self.n_items, -1)
            column_of[items] = np.arange(items.size)
            wanted = column_of[cols] >= 0
            contributions[rows[wanted], column_of[cols[wanted]]] = vals[wanted]
        elif self.weights is not None:
            contributions = self.weights[np.ix_(history, items)]
        if self.factors is not None:
            _, inverse_picked = fold_in_one(self.factors, self.gram, self.confidence, history)
            shares = self.confidence * (self.factors[items] @ inverse_picked).T
            contributions = (1.0 - self.share) * contributions + self.share * shares
        return contributions

    def reindexed(self, item_ids: list[str]) -> "ItemItemModel":
        """The same model over `item_ids` first, then the items only this model knows, so it
        can score another dataset's holdout: items it does not know get no weight (they just
        miss) and items only it knows still take slots (and miss too)."""
        wanted = set(item_ids)
        extra = [item_id for item_id in self.item_ids if item_id not in wanted]
        union = list(item_ids) + extra
        position = {item_id: i for i, item_id in enumerate(union)}
        old_to_new = np.asarray([position[item_id] for item_id in self.item_ids], dtype=np.int64)
        popularity = np.zeros(len(union), dtype=np.float32)
        popularity[old_to_new] = self.popularity
        weights = self.weights
        if sp.issparse(weights):
            mapping = sp.csr_matrix((np.ones(self.n_items, dtype=np.float32),
                                     (np.arange(self.n_items), old_to_new)),
                                    shape=(self.n_items, len(union)))
            weights = (mapping.T @ weights @ mapping).tocsr()
        elif weights is not None:
            weights = np.zeros((len(union), len(union)), dtype=np.float32)
            weights[np.ix_(old_to_new, old_to_new)] = self.weights
        return ItemItemModel(union, popularity, weights, self.algorithm, self.params)

    def save(self, directory: Path | str, catalogue: dict | None = None) -> None:
        """numpy arrays in .npz and ids/catalogue in JSON: loadable without pickle."""
        directory = Path(directory)
        arrays = {"popularity": self.popularity.astype(np.float32)}
        if sp.issparse(self.weights):
            csr = sp.csr_matrix(self.weights, dtype=np.float32)
            arrays.update(weights_data=csr.data, weights_indices=csr.indices,
                          weights_indptr=csr.indptr, weights_shape=np.asarray(csr.shape))
        elif self.weights is not None:
            arrays["weights_dense"] = np.asarray(self.weights, dtype=np.float32)
        if self.factors is not None:
            arrays["item_factors"] = np.asarray(self.factors, dtype=np.float32)
        np.savez(directory / ARRAYS_FILE, **arrays)
        document = {"algorithm": self.algorithm, "params": self.params,
                    "item_ids": self.item_ids, "catalogue": catalogue or {}}
        (directory / CATALOGUE_FILE).write_text(json.dumps(document), encoding="utf-8")

    @classmethod
    def load(cls, directory: Path | str) -> tuple["ItemItemModel", dict]:
        directory = Path(directory)
        document = json.loads((directory / CATALOGUE_FILE).read_text(encoding="utf-8"))
        with np.load(directory / ARRAYS_FILE, allow_pickle=False) as arrays:
            weights = None
            if "weights_dense" in arrays:
                weights = arrays["weights_dense"]
            elif "weights_data" in arrays:
                weights = sp.csr_matrix(
                    (arrays["weights_data"], arrays["weights_indices"], arrays["weights_indptr"]),
                    shape=tuple(arrays["weights_shape"]))
            popularity = arrays["popularity"]
            factors = arrays["item_factors"] if "item_factors" in arrays else None
        model = cls(document["item_ids"], popularity, weights, document["algorithm"],
                    document["params"], factors)
        return model, document["catalogue"]
