"""A history-only recommender: every algorithm here reduces to an item-item weight matrix,
item factors (the listener's vector folded in from the history), or a blend of the two.

Scores come from a history (item indices) alone: `weights[history].sum(axis=0)` and/or
`factors @ fold_in(history)`, so a new like counts at once and a brand-new listener gets
personal results after one like. Popularity is the same interface with neither part.

Two optional signals (chosen on validation by bento.signals, see `signals`):
- content: each item's nearest items by the cosine of their words and tags (`content`, items x
  items, a few hundred per row); an item's content score is its summed cosine with the history,
  added with a weight per target item that falls with its feedback, `strength * scale * shrink
  / (shrink + n_j)`: a playlist nobody liked yet is reached through what it shares with the
  history, a well-liked one is barely touched. Served like a sparse weight matrix: a row gather.
- recency: `weights`, one per history item (e.g. `recency_weights`), scale its row of the
  item-item and content sums and its confidence in the fold-in.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from bento.recsys import touched
from bento.recsys.factors import fold_in, fold_in_one, regularised_gram
from bento.recsys.touched import TIE_BREAK, Touched, gathered, row_entries, weighted
from bento.recsys.weighting import content_weights

ARRAYS_FILE = "arrays.npz"
CATALOGUE_FILE = "catalogue.json"


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
    # items x items content cosines; with signals["content"] = {"strength", "shrink", "scale"}
    content: sp.csr_matrix | None = None
    # what is switched on: {"content": {...}, "recency": {"half_life_days": d}}
    signals: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.index = {item_id: i for i, item_id in enumerate(self.item_ids)}
        top = float(self.popularity.max()) if self.popularity.size else 1.0
        self.popularity_prior = (self.popularity / (top or 1.0)).astype(np.float32)
        self.tie_break = TIE_BREAK * self.popularity_prior  # added to every personal score
        self.share = 0.0
        if self.factors is not None:
            self.gram = regularised_gram(self.factors, self.params["regularization"])
            self.confidence = float(self.params["confidence"])
            self.share = float(self.params.get("blend", 1.0)) if self.weights is not None \
                else 1.0
        self._last_fold_in: tuple[bytes, tuple] | None = None
        self.content_weight = None
        if self.content is not None:
            self.content = sp.csr_matrix(self.content, dtype=np.float32)
            self.content_weight = content_weights(self.popularity, **self.signals["content"])

    def fold_in(self, history: np.ndarray, weights: np.ndarray | None,
                ) -> tuple[np.ndarray, np.ndarray]:
        """fold_in_one for this history, computed once per request: scoring and explaining the
        same history reuse it (one entry, swapped whole, so concurrent requests never mix)."""
        key = b"|".join([history.dtype.str.encode(), history.tobytes()] + (
            [] if weights is None else [weights.dtype.str.encode(), weights.tobytes()]))
        last = self._last_fold_in
        if last is not None and last[0] == key:
            return last[1]
        folded = fold_in_one(self.factors, self.gram, self.confidence, history, weights)
        self._last_fold_in = (key, folded)
        return folded

    @property
    def personal(self) -> bool:
        return self.weights is not None or self.factors is not None or self.content is not None

    @property
    def half_life_days(self) -> float | None:
        """The validated recency half-life, None when recency is off."""
        return (self.signals.get("recency") or {}).get("half_life_days")

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

    def scores(self, history: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
        """A score for every item given the history's item indices (float32, one row), each
        history item counted with its weight (default 1)."""
        if not self.personal or history.size == 0:
            return self.popularity_prior.copy()
        summed = np.zeros(self.n_items) if self.weights is None else None
        if sp.issparse(self.weights):
            entries = row_entries(self.weights, history)
            summed = np.bincount(entries[1], weights=weighted(entries, weights),
                                 minlength=self.n_items)
        elif self.weights is not None:
            summed = self.weights[history].sum(axis=0) if weights is None \
                else weights.astype(np.float32) @ self.weights[history]
        if self.factors is not None:
            listener, _ = self.fold_in(history, weights)
            summed = (1.0 - self.share) * summed \
                + self.share * (self.factors @ listener.astype(np.float32))
        if self.content is not None:
            summed = summed + self.content_scores(history, weights)
        return np.add(summed, self.tie_break, dtype=np.float32)  # one pass: cast and add

    def content_scores(self, history: np.ndarray, weights: np.ndarray | None) -> np.ndarray:
        """Each item's weighted summed cosine with the history, times its content weight."""
        entries = row_entries(self.content, history)
        return np.bincount(entries[1], weights=weighted(entries, weights),
                           minlength=self.n_items) * self.content_weight

    def batch_scores(self, histories: sp.csr_matrix) -> np.ndarray:
        """Scores for many histories at once (users x items, dense), for evaluation; a stored
        value is that history item's weight (binary histories: every weight 1)."""
        if not self.personal:
            return np.tile(self.popularity_prior, (histories.shape[0], 1))
        parts = []  # summed in place into the first: no full-size temporaries beyond them
        if self.factors is not None:
            listeners = fold_in(self.factors, self.gram, self.confidence, histories)
            parts.append((self.share * listeners) @ self.factors.T)
        if self.weights is not None:
            product = histories @ self.weights
            product = product.toarray() if sp.issparse(product) else np.asarray(product)
            product = product.astype(np.float32, copy=False)
            parts.append(product if self.factors is None else (1.0 - self.share) * product)
        if self.content is not None:
            parts.append(self.content_cosine_sums(histories) * self.content_weight)
        dense = parts[0]
        for other in parts[1:]:
            dense += other
        dense += TIE_BREAK * self.popularity_prior
        return dense

    def content_cosine_sums(self, histories: sp.csr_matrix) -> np.ndarray:
        """users x items: each item's (weighted) summed content cosine with each history."""
        return sp.csr_matrix(histories @ self.content).toarray().astype(np.float32)

    def top_k(self, scores: np.ndarray, k: int, blocked: np.ndarray) -> np.ndarray:
        """Indices of the k best scores, best first, never one of `blocked`; `scores` is
        overwritten with -inf at `blocked` (no catalogue-sized copy per request)."""
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

    def recommend(self, history: np.ndarray, k: int, exclude: np.ndarray | None = None,
                  weights: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Top-k item indices and their scores; history and excluded items never come back."""
        items, scores, _ = self.ranked(history, k, exclude, weights)
        return items, scores

    def ranked(self, history: np.ndarray, k: int, exclude: np.ndarray | None = None,
               weights: np.ndarray | None = None,
               ) -> tuple[np.ndarray, np.ndarray, Touched | None]:
        """recommend, plus the history's gathered rows when it gathered them (explain reuses
        them): scored over the touched columns only when that decides the top k."""
        # never written to below: no copy when there is nothing to add to the history
        blocked = history if exclude is None or not exclude.size \
            else np.concatenate([history, exclude])
        blocked = blocked.astype(np.int64, copy=False)
        found = None
        if history.size and touched.applies(self):
            found = touched.scored(self, history, weights)
            top = touched.top_k(found, k, blocked, self.n_items)
            if top is not None:
                return (*top, found)
            scores = touched.dense(self, found)
        else:
            scores = self.scores(history, weights)
        items = self.top_k(scores, k, blocked)  # never a blocked item's score
        return items, scores[items], found

    def answer(self, history: np.ndarray, k: int, exclude: np.ndarray | None = None,
               weights: np.ndarray | None = None, n: int = 3,
               ) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
        """recommend and explain in one, the history's rows gathered once for both."""
        items, scores, found = self.ranked(history, k, exclude, weights)
        return items, scores, self.explain(history, items, n, weights, found)

    def similar_items(self, item: int, k: int) -> tuple[np.ndarray, np.ndarray]:
        return self.recommend(np.asarray([item], dtype=np.int64), k)

    def explain(self, history: np.ndarray, items: np.ndarray, n: int = 3,
                weights: np.ndarray | None = None, found: Touched | None = None,
                ) -> list[np.ndarray]:
        """For each item, up to n history indices that contributed most (positive only);
        `found`: the history's rows as `ranked` gathered them."""
        if not self.personal or history.size == 0 or items.size == 0:
            return [np.empty(0, dtype=np.int64) for _ in items]
        if found is not None and found.places is not None and found.content is None:
            return touched.reasons(found, history, n, weights)  # the same, from the hits
        contributions = self.contributions(history, items, weights, found)
        order = np.argsort(-contributions, axis=0, kind="stable")[:n]
        positive = contributions[order, np.arange(items.size)] > 0
        # One gather for every item, then a slice per item (no fancy indexing per column).
        picked = history[order].T[positive.T]
        ends = np.cumsum(positive.sum(axis=0)).tolist()
        return [picked[start:end] for start, end in zip([0] + ends, ends)]

    def contributions(self, history: np.ndarray, items: np.ndarray,
                      weights: np.ndarray | None = None, found: Touched | None = None,
                      ) -> np.ndarray:
        """history x items: each history item's additive share of each item's score."""
        contributions = np.zeros((history.size, items.size), dtype=np.float32)
        if sp.issparse(self.weights):
            contributions = gathered(self.weights, history, items, found and found.entries)
        elif self.weights is not None:
            contributions = self.weights[np.ix_(history, items)]
        if weights is not None:
            contributions = contributions * weights[:, None].astype(np.float32)
        if self.factors is not None:
            _, inverse_picked = self.fold_in(history, weights)
            confidence = self.confidence * (1.0 if weights is None else weights[:, None])
            shares = confidence * (self.factors[items] @ inverse_picked).T
            contributions = (1.0 - self.share) * contributions + self.share * shares
        if self.content is not None:
            cosines = gathered(self.content, history, items, found and found.content)
            if weights is not None:
                cosines *= weights[:, None]
            contributions = contributions + cosines * self.content_weight[items]
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
        weights, factors, content = self.weights, self.factors, self.content
        mapping = sp.csr_matrix((np.ones(self.n_items, dtype=np.float32),
                                 (np.arange(self.n_items), old_to_new)),
                                shape=(self.n_items, len(union)))
        if sp.issparse(weights):
            weights = (mapping.T @ weights @ mapping).tocsr()
        elif weights is not None:
            weights = np.zeros((len(union), len(union)), dtype=np.float32)
            weights[np.ix_(old_to_new, old_to_new)] = self.weights
        if factors is not None:
            factors = np.zeros((len(union), factors.shape[1]), dtype=np.float32)
            factors[old_to_new] = self.factors
        if content is not None:
            content = (mapping.T @ content @ mapping).tocsr()
        return ItemItemModel(union, popularity, weights, self.algorithm, self.params, factors,
                             content, self.signals)

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
        if self.content is not None:
            arrays.update(content_data=self.content.data, content_indices=self.content.indices,
                          content_indptr=self.content.indptr,
                          content_shape=np.asarray(self.content.shape))
        np.savez(directory / ARRAYS_FILE, **arrays)
        document = {"algorithm": self.algorithm, "params": self.params, "signals": self.signals,
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
            content = None
            if "content_data" in arrays:
                content = sp.csr_matrix((arrays["content_data"], arrays["content_indices"],
                                         arrays["content_indptr"]),
                                        shape=tuple(arrays["content_shape"]))
        model = cls(document["item_ids"], popularity, weights, document["algorithm"],
                    document["params"], factors, content, document.get("signals", {}))
        return model, document["catalogue"]
