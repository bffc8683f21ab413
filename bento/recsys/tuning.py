"""Pick an algorithm and its settings on a validation split carved from the training part.

The test part is never looked at here, so the same command does well on unseen data. The search
is a coordinate search (one setting at a time, stopping once a setting keeps getting worse), on
one cached Gram matrix, and it shrinks with the data: fewer dense inverses on big catalogues.
One validation fold is noisy where the models are close, and the fold the settings were tuned
on flatters the settings tuned hardest on it (the winner's curse): the finalists (the
candidates within `FINALIST_WITHIN` of the top, of any family) are scored again on
`CONFIRM_FOLDS` fresh folds carved with other seeds, and the best mean over those alone wins,
on Recall and NDCG together, the two figures the search is for (on big data one fold is large
enough).
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable

import scipy.sparse as sp

from bento.recsys.algorithms import EASE_HEAD_NEIGHBOURS, EASE_MAX_ITEMS, fit
from bento.recsys.evaluation import METRICS, evaluate, holdout_split
from bento.recsys.gram import GramCache

# Within this relative NDCG of the best, prefer the candidate that covers more of the catalogue
# (the first fold's running best, which decides on big data; the fresh folds ignore coverage).
NDCG_TIE = 0.002
# Up to this many grid points within this relative NDCG of the top go to a second fold
# (the rivals' grid search in bench.contenders).
FINALIST_WITHIN = 0.01
MAX_FINALISTS = 3
# The default's finalists: up to this many candidates of any family within FINALIST_WITHIN,
# each scored on this many fresh folds (small data only: a few more fits of seconds each).
CONFIRM_FINALISTS = 4
CONFIRM_FOLDS = 3
EASE_L2 = (10.0, 30.0, 100.0, 300.0, 1000.0, 3000.0, 10000.0)
DENSE_INVERSES_CHEAP_BELOW = 2500
# Past this many training interactions, validate on fewer users and try fewer settings.
BIG_DATA_NNZ = 300_000
BIG_DATA_VALIDATION_USERS = 2500
# The deterministic bound of the first fold's search: at most this many candidates are fitted
# and scored (the fresh folds' few fits come on top), whatever the machine's speed or load.
MAX_CANDIDATES = 60


@dataclass
class Choice:
    algorithm: str
    params: dict
    validation: dict[str, float]
    # How the search went: candidates fitted, fresh-fold fits, and "cut_by" ("time budget" or
    # "candidate budget") only when a bound stopped it before its grid was done.
    search: dict = field(default_factory=dict)


@dataclass
class Fold:
    """A validation holdout of the training part and the Grams of what is left to fit on."""

    fit_part: sp.csr_matrix
    validation: sp.csr_matrix
    cache: GramCache

    @classmethod
    def carve(cls, train: sp.csr_matrix, seed: int) -> "Fold":
        fit_part, validation = holdout_split(train, seed=seed)
        return cls(fit_part, validation, GramCache(fit_part))


def better(metrics: dict[str, float], best: Choice | None) -> bool:
    if best is None:
        return True
    top = best.validation["ndcg"]
    if metrics["ndcg"] > top * (1 + NDCG_TIE):
        return True
    return metrics["ndcg"] >= top * (1 - NDCG_TIE) and \
        metrics["coverage"] > best.validation["coverage"]


class Search:
    """Fits and scores candidates on one validation split; remembers the best."""

    def __init__(self, train: sp.csr_matrix, item_ids: list[str], k: int, seed: int,
                 max_users: int, progress: Callable[[str], None],
                 time_budget: float | None = None, max_candidates: int = MAX_CANDIDATES):
        self.max_candidates = max_candidates
        self.train = train
        self.fold = Fold.carve(train, seed + 1)
        self.big = self.fold.fit_part.nnz > BIG_DATA_NNZ
        if self.big:
            max_users = min(max_users, BIG_DATA_VALIDATION_USERS)
        self.item_ids, self.k, self.seed, self.max_users = item_ids, k, seed, max_users
        self.progress = progress
        self.best: Choice | None = None
        self.family_best: dict[str, tuple[float, dict, dict]] = {}  # ndcg, params, metrics
        self.metrics: dict[str, tuple[str, dict, dict]] = {}  # by key: name, params, metrics
        self.deadline = None if time_budget is None else time.monotonic() + time_budget
        self.cut_by: str | None = None  # the first bound that skipped a candidate
        self.fresh_fits = 0

    def out_of_time(self) -> bool:
        """Past --time-budget: no new candidate starts (one already running finishes)."""
        return self.deadline is not None and time.monotonic() > self.deadline

    def score(self, name: str, params: dict) -> float:
        key = f"{name} {sorted(params.items())}"
        if key not in self.metrics:
            if len(self.metrics) >= self.max_candidates:
                return self.skip("candidate budget", name, params)
            if self.out_of_time() and self.best is not None:
                return self.skip("time budget", name, params)
            metrics = self.evaluate(self.fold, name, params, f"[{len(self.metrics) + 1}]")
            self.metrics[key] = (name, dict(params), metrics)
            if better(metrics, self.best):
                self.best = Choice(name, dict(params), metrics)
            if self.deadline is not None:
                left = max(0.0, self.deadline - time.monotonic())
                self.progress(f"    time budget left: {left:.0f}s")
            if metrics["ndcg"] > self.family_best.get(name, (-1.0,))[0]:
                self.family_best[name] = (metrics["ndcg"], dict(params), metrics)
        return self.metrics[key][2]["ndcg"]

    def cut(self, bound: str) -> None:
        """Remember the first bound that stopped part of the search (Choice.search)."""
        self.cut_by = self.cut_by or bound

    def skip(self, bound: str, name: str, params: dict) -> float:
        self.cut(bound)
        self.progress(f"{bound} spent: skipping {name} {params}")
        return -1.0

    def summary(self) -> dict:
        """Choice.search: what was fitted and, if a bound stopped the search, which."""
        found = {"candidates": len(self.metrics), "fresh_fold_fits": self.fresh_fits}
        return {**found, "cut_by": self.cut_by} if self.cut_by else found

    def evaluate(self, fold: Fold, name: str, params: dict, label: str) -> dict[str, float]:
        model = fit(name, fold.fit_part, self.item_ids, params, cache=fold.cache)
        metrics = evaluate(model, fold.fit_part, fold.validation, self.k,
                           max_users=self.max_users, seed=self.seed)
        self.progress(f"{label} {name} {params}: "
                      f"ndcg@{self.k}={metrics['ndcg']:.4f} "
                      f"coverage@{self.k}={metrics['coverage']:.3f}")
        return metrics

    def confirm(self) -> Choice | None:
        """The finalists scored on CONFIRM_FOLDS fresh folds; the best mean over those (the
        first fold, where they were tuned, left out) by `confirmed_best`. Skipped on big data,
        past the time budget, or with one finalist; cut short by the budget, the folds done
        decide (none done: the first fold's choice)."""
        finalists = finalists_of(self.metrics)
        if self.big or len(finalists) < 2:
            return self.best
        if self.out_of_time():
            self.cut("time budget")
            return self.best
        self.progress(f"{CONFIRM_FOLDS} fresh validation folds for {len(finalists)} finalists: "
                      + ", ".join(name for name, _, _ in finalists))
        scored: list[list[dict[str, float]]] = [[] for _ in finalists]
        for fold_number in range(2, 2 + CONFIRM_FOLDS):
            if self.out_of_time():
                self.cut("time budget")
                self.progress("time budget spent: the fresh folds done decide")
                break
            self.fold = Fold.carve(self.train, self.seed + fold_number)  # the last one freed
            for (name, params, _), found in zip(finalists, scored):
                if self.out_of_time():
                    self.cut("time budget")
                    break  # this fold unfinished: left out below
                found.append(self.evaluate(self.fold, name, params, f"[fold-{fold_number}]"))
                self.fresh_fits += 1
        done = min(len(found) for found in scored)
        if done == 0:
            return self.best
        means = [{metric: sum(m[metric] for m in found[:done]) / done for metric in METRICS}
                 for found in scored]
        best = confirmed_best(means)
        name, params, _ = finalists[best]
        return Choice(name, dict(params), means[best])

    def line(self, name: str, base: dict, setting: str, values) -> dict:
        """Try `values` of one setting in order; stop after two in a row below the best."""
        return self.path(name, [{**base, setting: value} for value in values])

    def path(self, name: str, candidates: list[dict]) -> dict:
        """Try the settings in order; stop after two in a row below the best; the best."""
        best, best_ndcg, worse = candidates[0], -1.0, 0
        for params in candidates:
            ndcg = self.score(name, params)
            if ndcg > best_ndcg:
                best, best_ndcg, worse = params, ndcg, 0
            else:
                worse += 1
                if worse == 2:
                    break
        return best


def finalists_of(metrics: dict[str, tuple[str, dict, dict]]) -> list[tuple[str, dict, dict]]:
    """(name, params, first-fold metrics) of the candidates within FINALIST_WITHIN of the
    top NDCG, of any family, best first, at most CONFIRM_FINALISTS."""
    ranked = sorted(metrics.values(), key=lambda entry: -entry[2]["ndcg"])
    if not ranked:
        return []
    top = ranked[0][2]["ndcg"]
    return [entry for entry in ranked
            if entry[2]["ndcg"] >= top * (1 - FINALIST_WITHIN)][:CONFIRM_FINALISTS]


def confirmed_best(means: list[dict[str, float]]) -> int:
    """The index of the best mean Recall and NDCG, each relative to the finalists' best (the
    targets are both; neither scale dominates); ties go to the earlier (better first fold)."""
    tops = {metric: max(m[metric] for m in means) or 1.0 for metric in ("recall", "ndcg")}
    merit = [sum(m[metric] / top for metric, top in tops.items()) for m in means]
    return max(range(len(means)), key=lambda i: (merit[i], -i))


def search_ease(search: Search) -> None:
    cheap = len(search.item_ids) <= DENSE_INVERSES_CHEAP_BELOW
    if len(search.item_ids) > EASE_MAX_ITEMS:
        search.progress(f"ease: dense over the {EASE_MAX_ITEMS} most popular items of "
                        f"{len(search.item_ids)} (memory budget), pruned to "
                        f"{EASE_HEAD_NEIGHBOURS} neighbours per item")
    l2_values = EASE_L2 if cheap else EASE_L2[2:5]
    params = search.line("ease", {"l2": 0.0}, "l2", l2_values)
    params = search.line("ease", params, "beta", (0.0, 0.1, 0.2, 0.3))
    if cheap:
        params = search.line("ease", params, "dropout", (0.0, 0.1, 0.25, 0.5))
    if cheap and not search.big:  # each exponent is one more Gram over all interactions
        params = search.line("ease", params, "user_exponent", (0.0, 0.25, 0.5, 0.75))
    l2 = params["l2"]
    search.line("ease", params, "l2", (l2, l2 / 1.8, l2 * 1.8))


def search_rp3beta(search: Search) -> None:
    betas = (0.0, 0.15) if search.big else (0.0, 0.15, 0.3, 0.5)
    params = search.line("rp3beta", {"alpha": 1.0, "neighbours": 200}, "beta", betas)
    search.line("rp3beta", params, "alpha", (1.0, 0.75, 0.5))


def search_itemknn(search: Search) -> None:
    shrinks = (10.0, 50.0) if search.big else (0.0, 10.0, 50.0)
    params = search.line("itemknn", {"neighbours": 100}, "shrink", shrinks)
    neighbours = (100, 300) if search.big else (100, 300, 30)
    search.line("itemknn", params, "neighbours", neighbours)


def search_ials(search: Search) -> None:
    params = {"factors": 64, "regularization": 1.0, "confidence": 10.0}
    params = search.line("ials", params, "confidence", (10.0, 3.0, 30.0, 1.5))
    params = search.line("ials", params, "regularization", (1.0, 10.0, 0.1, 100.0))
    if not search.big:
        # The two trade off (divided by the confidence, the loss weighs the implicit zeros by
        # 1/c and the ridge by reg/c), so the best pairs lie on a diagonal one-setting lines
        # miss: move both together (a positive never weighs less than a zero), then each alone
        # once more.
        reg, confidence = params["regularization"], params["confidence"]
        params = search.path("ials", [{**params, "regularization": reg * m,
                                       "confidence": confidence * m} for m in (1, 3, 10, 1 / 3)
                                      if confidence * m >= 1])
        reg, confidence = params["regularization"], params["confidence"]
        params = search.line("ials", params, "regularization", (reg, reg * 1.7, reg / 1.7))
        params = search.line("ials", params, "confidence", (confidence, confidence * 1.7,
                                                            max(1.0, confidence / 1.7)))
        # no more factors than items: past that they only cost time
        factors = [f for f in (64, 128, 256) if f == 64 or f < len(search.item_ids)]
        search.line("ials", params, "factors", factors)


def search_blend(search: Search) -> None:
    """The best item-item model mixed with the best ials, and with the runner-up item-item
    model (a pruned EASE head and a sparse model for the tail), for those that were tried."""
    item_item = sorted(((ndcg, name, params) for name, (ndcg, params, _)
                        in search.family_best.items() if name in ("ease", "rp3beta", "itemknn")),
                       key=lambda entry: -entry[0])
    if not item_item:
        return
    _, base, base_params = item_item[0]
    partners = [("ials", search.family_best["ials"][1])] if "ials" in search.family_best else []
    partners += [(name, params) for _, name, params in item_item[1:2]]
    for partner, partner_params in partners:
        params = {"base": base, "base_params": base_params, "partner": partner,
                  "partner_params": partner_params}
        search.line("blend", params, "blend", (0.3, 0.5, 0.15, 0.7))


SEARCHES = {"ease": search_ease, "rp3beta": search_rp3beta, "itemknn": search_itemknn,
            "ials": search_ials, "blend": search_blend,
            "popularity": lambda search: search.score("popularity", {})}


def candidate_algorithms(algorithm: str, n_items: int) -> list[str]:
    """'auto': every algorithm that fits the catalogue (EASE only while a dense inverse does)."""
    if algorithm != "auto":
        return [algorithm]
    item_item = ["ease"] if n_items <= EASE_MAX_ITEMS else ["ease", "rp3beta", "itemknn"]
    return item_item + ["ials", "blend"]


def choose(train: sp.csr_matrix, item_ids: list[str], algorithm: str = "auto", k: int = 10,
           seed: int = 0, max_users: int = 5000,
           progress: Callable[[str], None] = lambda _: None,
           time_budget: float | None = None, max_candidates: int = MAX_CANDIDATES) -> Choice:
    """Best (algorithm, params) on validation holdouts of `train`: searched by NDCG@k on one,
    the finalists decided by Recall@k and NDCG@k on fresh ones (big data: the first fold's
    best by NDCG@k, near-ties: more coverage)."""
    if algorithm not in SEARCHES and algorithm != "auto":
        raise ValueError(f"unknown algorithm {algorithm!r}")
    search = Search(train, item_ids, k, seed, max_users, progress, time_budget,
                    max_candidates)
    for name in candidate_algorithms(algorithm, len(item_ids)):
        SEARCHES[name](search)
    choice = search.confirm()
    choice.search = search.summary()
    return choice
