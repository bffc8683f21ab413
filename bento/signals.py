"""Signals beyond binary likes, each switched on only where the trainer's validation shows a gain
for the model it chose (issue 16, parts 3 and 6); both reports land in the model's metadata
`signals`, on or off with the figures that decided it.

- content (new playlists get found): a random 3% of the liked items (at least 5) lose every
  interaction, about the share of new playlists between two retrains (a new playlist's slots
  come out of the warm ones' lists, so the warm cost grows with that share),
  the chosen model is fitted on the rest (less a per-user holdout of the warm items), and a grid
  of (strength, shrink) is scored on both holdouts: Recall@K over the hidden "cold" items, and
  NDCG@K on the warm holdout. On: the best cold recall among settings that keep warm NDCG
  within WARM_TOLERANCE of the model without content, if it beats that model's cold recall.
- recency (recent likes weigh more): each listener's newest 20% of likes are held out, the model
  is fitted on the older ones, and the histories are scored with a few half-lives against the
  unweighted history. On: the best NDCG@K if it beats unweighted by MIN_GAIN (2%: with a few
  half-lives tried, a 1% "gain" turned up on shuffled times). Its code: `bento.recency`.
- play counts (the `weight` column as confidence in training): on where the chosen model fitted
  on confidence beats it fitted on presence by MIN_GAIN. Its code: `bento.playcounts`.
"""
from __future__ import annotations

import dataclasses
import time
from typing import Callable

import numpy as np
import scipy.sparse as sp

from bento.playcounts import validate_weights
from bento.recency import MIN_GAIN, VALIDATION_USERS, entry_times, validate_recency
from bento.recsys.algorithms import fit
from bento.recsys.evaluation import evaluate, holdout_split, recall_ndcg
from bento.recsys.gram import item_popularity
from bento.recsys.matrix import part
from bento.recsys.model import ItemItemModel
from bento.recsys.weighting import content_weights

COLD_SHARE = 0.03
MIN_COLD = 5
# Tried in order, per shrink, until warm NDCG falls below its floor (it only falls further).
CONTENT_STRENGTHS = (0.25, 0.3, 0.36, 0.43, 0.52, 0.62, 0.75, 0.9, 1.07, 1.3, 1.55, 1.86)
CONTENT_SHRINKS = (0.1, 1.0, 10.0)
WARM_TOLERANCE = 0.01    # relative warm NDCG@K the content signal may cost
# The content grid keeps two users x items score arrays per holdout: about 2^25 entries each
# (128 MiB), so fewer users on a large catalogue (never fewer than 500).
CACHED_SCORES = 1 << 25
SCALE_USERS = 300
OUT_OF_TIME = "not checked: the --time-budget was spent (raise it to check this signal)"


def with_content(model: ItemItemModel, similarity: sp.csr_matrix, strength: float,
                 shrink: float | None, scale: float) -> ItemItemModel:
    """`model` plus content at `strength` (relative to the model's own score scale: `scale`,
    from `score_scale`) and `shrink`."""
    return dataclasses.replace(model, content=similarity, signals={
        **model.signals, "content": {"strength": strength, "shrink": shrink, "scale": scale}})


def content_only(model: ItemItemModel, similarity: sp.csr_matrix) -> ItemItemModel:
    """Content alone (summed cosine with the history), on `model`'s items and popularity."""
    return ItemItemModel(model.item_ids, model.popularity, content=similarity, algorithm="content",
                         signals={"content": {"strength": 1.0, "shrink": None, "scale": 1.0}})


def best_scores(model: ItemItemModel, histories: sp.csr_matrix) -> float:
    """The median over `histories` of the best score of an item not in the history."""
    scores = model.batch_scores(histories)
    seen = histories.tocoo()
    scores[seen.row, seen.col] = -np.inf
    return float(np.median(scores.max(axis=1)))


def score_scale(model: ItemItemModel, similarity: sp.csr_matrix, histories: sp.csr_matrix,
                seed: int = 0) -> float:
    """Collaborative over content score scale: what makes a strength mean the same thing for
    EASE, RP3beta, item-kNN or iALS (their scores differ by orders of magnitude)."""
    users = np.flatnonzero(np.diff(histories.indptr))
    if users.size == 0 or similarity.nnz == 0:
        return 1.0
    users = np.random.default_rng(seed).choice(users, min(SCALE_USERS, users.size),
                                               replace=False)
    sample = histories[np.sort(users)]
    collaborative = best_scores(model, sample) if model.personal else 0.0
    content = best_scores(content_only(model, similarity), sample)
    return collaborative / content if collaborative > 0 and content > 0 else 1.0


class ContentSettings:
    """What `evaluate` needs of a model (`n_items`, `batch_scores`) for `model` plus content at
    one setting after another: the model's own scores and the content cosines of a batch of
    histories are computed once, so a grid of settings costs one scoring, not one each."""

    def __init__(self, model: ItemItemModel, similarity: sp.csr_matrix):
        self.model, self.n_items = model, model.n_items
        self.cosines = content_only(model, similarity)
        self.cache: dict[tuple, tuple[np.ndarray, np.ndarray]] = {}
        self.weight = np.zeros(model.n_items, dtype=np.float32)

    def set(self, strength: float, shrink: float, scale: float) -> "ContentSettings":
        self.weight = content_weights(self.model.popularity, strength, shrink, scale)
        return self

    def batch_scores(self, histories: sp.csr_matrix) -> np.ndarray:
        key = (histories.shape, histories.indptr.tobytes(), histories.indices.tobytes())
        if key not in self.cache:
            self.cache[key] = (self.model.batch_scores(histories),
                               self.cosines.content_cosine_sums(histories))
        collaborative, cosines = self.cache[key]
        return collaborative + cosines * self.weight


def validate_content(train: sp.csr_matrix, item_ids: list[str], similarity: sp.csr_matrix,
                     algorithm: str, params: dict, k: int, seed: int,
                     progress: Callable[[str], None] = lambda _: None) -> dict:
    """The content report: whether to use it, at which (strength, shrink), and why."""
    if similarity.nnz == 0:
        return {"used": False, "reason": "no two playlists share a tag or a word"}
    if algorithm == "popularity":  # content would replace the ranking, not add to one
        return {"used": False, "reason": "a popularity model has no personal scores to add to"}
    liked = np.flatnonzero(item_popularity(train) > 0)
    if liked.size < 10:
        return {"used": False, "reason": "too few liked playlists to simulate new ones"}
    rng = np.random.default_rng(seed + 2)
    is_cold = np.zeros(train.shape[1], dtype=bool)
    is_cold[rng.choice(liked, max(MIN_COLD, int(liked.size * COLD_SHARE)), replace=False)] = True
    in_cold = is_cold[train.tocoo().col]
    cold_test = part(train, in_cold)
    fit_part, warm_test = holdout_split(part(train, ~in_cold), seed=seed + 2)
    progress(f"content: {int(is_cold.sum())} liked playlists made new (every like hidden), "
             f"fitting {algorithm} on the rest ...")
    model = fit(algorithm, fit_part, item_ids, params)

    users = max(500, min(VALIDATION_USERS, CACHED_SCORES // train.shape[1]))

    def judged(candidate) -> dict:
        return {name: recall_ndcg(evaluate(candidate, fit_part, test, k, seed=seed,
                                           max_users=users))
                for name, test in (("warm", warm_test), ("cold", cold_test))}

    baseline = judged(model)
    floor = baseline["warm"]["ndcg"] * (1 - WARM_TOLERANCE)
    scale = score_scale(model, similarity, fit_part, seed)
    settings = ContentSettings(model, similarity)
    tried = []
    for shrink in CONTENT_SHRINKS:
        for strength in CONTENT_STRENGTHS:
            figures = judged(settings.set(strength, shrink, scale))
            tried.append({"strength": strength, "shrink": shrink, **figures})
            progress(f"  content strength {strength} shrink {shrink}: "
                     + ", ".join(f"{name} ndcg@{k} {figures[name]['ndcg']:.4f} recall@{k} "
                                 f"{figures[name]['recall']:.4f} "
                                 f"(without {baseline[name]['ndcg']:.4f} "
                                 f"{baseline[name]['recall']:.4f})"
                                 for name in ("warm", "cold")))
            if figures["warm"]["ndcg"] < floor:
                break
    keeping_warm = [row for row in tried if row["warm"]["ndcg"] >= floor]
    best = max(keeping_warm, key=lambda row: row["cold"]["recall"], default=None)
    used = best is not None and \
        best["cold"]["recall"] > baseline["cold"]["recall"] * (1 + MIN_GAIN) + 1e-4
    report = {"used": used, "cold_items": int(is_cold.sum()), "warm_tolerance": WARM_TOLERANCE,
              "without": baseline, "tried": tried}
    if used:
        report.update(strength=best["strength"], shrink=best["shrink"], chosen=best)
    else:
        report["reason"] = "no setting reached more new playlists without costing warm ones"
    return report


@dataclasses.dataclass
class Signals:
    """The reports; `apply` switches on in a fitted model what content and recency chose,
    `weights` says what the model is fitted on (bento.playcounts.fitted_matrix)."""

    content: dict
    recency: dict
    weights: dict = dataclasses.field(default_factory=lambda: {
        "used": False, "reason": "not checked"})

    def metadata(self) -> dict:
        """The model metadata's `signals`: each verdict with its figures."""
        return {"interaction_weights": bool(self.weights.get("used")), "weights": self.weights,
                "content": self.content, "recency": self.recency}

    def apply(self, model: ItemItemModel, similarity: sp.csr_matrix, histories: sp.csr_matrix,
              seed: int = 0) -> ItemItemModel:
        """`model` (fitted on `histories`) with the chosen content and recency."""
        if self.content.get("used"):
            model = with_content(model, similarity, self.content["strength"],
                                 self.content["shrink"],
                                 score_scale(model, similarity, histories, seed))
        if self.recency.get("used"):
            model = dataclasses.replace(model, signals={
                **model.signals, "recency": {"half_life_days": self.recency["half_life_days"]}})
        return model


def choose_signals(train: sp.csr_matrix, times: sp.csr_matrix, item_ids: list[str],
                   similarity: sp.csr_matrix | None, algorithm: str, params: dict, k: int,
                   seed: int, half_life_days: float | None | bool = None,
                   progress: Callable[[str], None] = lambda _: None,
                   deadline: float | None = None, plays: sp.csr_matrix | None = None,
                   ) -> Signals:
    """Validate content, then recency on the model with the chosen content, then play counts
    (`plays`: the training part's weights; None: not given); `half_life_days`:
    None tries a few, a number only that one, False switches recency off unvalidated. A check
    that would start past `deadline` (time.monotonic(), the --time-budget) is not made, and
    stays off; `similarity` None: the content neighbours were not built within it."""
    def out_of_time() -> bool:
        return deadline is not None and time.monotonic() > deadline

    if similarity is None or out_of_time():
        content = {"used": False, "reason": OUT_OF_TIME}
    else:
        content = validate_content(train, item_ids, similarity, algorithm, params, k, seed,
                                   progress)
    chosen = Signals(content, {})
    if half_life_days is False:
        recency = {"used": False, "reason": "switched off (--recency-half-life-days off)"}
    elif out_of_time():
        recency = {"used": False, "reason": OUT_OF_TIME}
    else:
        recency = validate_recency(
            entry_times(times, train), item_ids, algorithm, params, k, seed,
            half_life_days or None,
            lambda model, histories: chosen.apply(model, similarity, histories, seed), progress)
    on = f"on (half-life {recency.get('half_life_days')} days)" if recency["used"] else "off"
    if plays is None:
        weights = {"used": False, "reason": "no play counts given"}
    elif out_of_time():
        weights = {"used": False, "reason": OUT_OF_TIME}
    else:
        weights = validate_weights(plays, item_ids, algorithm, params, k, seed, progress)
    plays_on = f"on (alpha {weights.get('alpha')})" if weights["used"] else "off"
    progress(f"signals: content {'on' if content['used'] else 'off'}, recency {on}, "
             f"play counts {plays_on}")
    return Signals(content, recency, weights)
