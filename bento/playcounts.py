"""Play counts, the third signal: the `weight` column (plays, a rating, a quantity) as each
interaction's confidence in training, switched on only where validation on the training part
shows a gain for the chosen model, decided the way recency is (`bento.recency`: MIN_GAIN).

The model is fitted on confidence `1 + alpha log(1 + w)` (mean 1, `play_confidence`) instead
of presence: item-item models sum it into their Gram X' C X (EASE, item-kNN, RP3beta), iALS
takes it as each positive's confidence, blends get both. Served histories stay lists of ids
(every like weighs 1): what a play count says about two playlists is learned into the model's
weights, so the Bento needs no counts at serve time and its contract does not change.
The check: on each of FOLDS validation folds (a seeded 20% of each listener's training likes
held out, binary as the test is), the chosen model fitted on the rest once on presence and once
per alpha; on if the best alpha's mean NDCG@K beats presence by MIN_GAIN, is ahead on every
fold, and beats the same alpha on the counts shuffled across interactions (a placebo: iALS
"gained" 3-4% from shuffled counts, the spread of confidence alone) by MIN_GAIN too.
"""
from __future__ import annotations

from typing import Callable

import numpy as np
import scipy.sparse as sp

from bento.recency import MIN_GAIN, VALIDATION_USERS, entry_times
from bento.recsys import stats
from bento.recsys.algorithms import fit
from bento.recsys.evaluation import evaluate, holdout_split, recall_ndcg
from bento.recsys.matrix import binarize
from bento.recsys.weighting import play_confidence

ALPHAS = (0.5, 2.0, 8.0)  # confidence 1 + alpha log(1 + w): gentle to steep
SPLIT_SEED_OFFSET = 5     # its own validation splits, apart from the search's and the signals'
# Two folds, ahead on both: with one, a fit-to-fit difference of 2% passes for a gain.
FOLDS = 2


def confident(plays: sp.csr_matrix, alpha: float) -> sp.csr_matrix:
    """`plays` (users x items, a count per stored entry) as confidence at `alpha`."""
    plays = plays.tocsr()
    return sp.csr_matrix((play_confidence(plays.data, alpha), plays.indices.copy(),
                          plays.indptr.copy()), shape=plays.shape)


def training_weights(weights: sp.csr_matrix, binary: sp.csr_matrix) -> sp.csr_matrix:
    """The play counts (`weights`, every interaction's) of `binary`'s entries; 1 if unknown."""
    found = entry_times(weights, binary)
    found.data = np.nan_to_num(found.data, nan=1.0)
    return found


def validate_weights(plays: sp.csr_matrix, item_ids: list[str], algorithm: str, params: dict,
                     k: int, seed: int, progress: Callable[[str], None] = lambda _: None,
                     ) -> dict:
    """The play-count report: `plays` holds the training part's counts; on or off, the
    figures that decided it, and `alpha` when on."""
    if plays.nnz == 0 or np.ptp(plays.data) == 0:
        return {"used": False, "reason": "every interaction has the same weight"}
    if algorithm == "popularity":
        return {"used": False, "reason": "a popularity model counts listeners, not plays"}
    if stats.distributed():
        return {"used": False, "reason": "not checked with --engine spark (it sums presence)"}
    progress(f"play counts: fitting {algorithm} on presence and on confidence, alpha "
             f"{list(ALPHAS)}, on {FOLDS} validation folds ...")
    folds = [fold(plays, seed + SPLIT_SEED_OFFSET + i) for i in range(FOLDS)]

    def judged(alpha: float | None, placebo: bool = False) -> dict:
        """Recall and NDCG@K at `alpha` (None: presence; `placebo`: the counts shuffled across
        interactions), the mean over the folds and each."""
        each = []
        for fit_plays, binary, validation in folds:
            if placebo:
                fit_plays = fit_plays.copy()
                fit_plays.data = np.random.default_rng(seed).permutation(fit_plays.data)
            matrix = binary if alpha is None else confident(fit_plays, alpha)
            model = fit(algorithm, matrix, item_ids, params)
            each.append(recall_ndcg(evaluate(model, binary, validation, k, seed=seed,
                                             max_users=VALIDATION_USERS)))
        return {name: round(float(np.mean([row[name] for row in each])), 5)
                for name in ("recall", "ndcg")} | {"folds_ndcg": [row["ndcg"] for row in each]}

    baseline = judged(None)
    tried = []
    for alpha in ALPHAS:
        figures = judged(alpha)
        tried.append({"alpha": alpha, **figures})
        progress(f"  alpha {alpha}: ndcg@{k} {figures['ndcg']:.4f} recall@{k} "
                 f"{figures['recall']:.4f} (presence {baseline['ndcg']:.4f} "
                 f"{baseline['recall']:.4f})")
    best = max(tried, key=lambda row: row["ndcg"])
    placebo = judged(best["alpha"], placebo=True)
    progress(f"  alpha {best['alpha']} on shuffled counts: ndcg@{k} {placebo['ndcg']:.4f}")
    used = best["ndcg"] > max(baseline["ndcg"], placebo["ndcg"]) * (1 + MIN_GAIN) and all(
        ndcg > without for ndcg, without in zip(best["folds_ndcg"], baseline["folds_ndcg"]))
    report = {"used": used, "without": baseline, "tried": tried, "shuffled": placebo}
    if used:
        report.update(alpha=best["alpha"], chosen=best)
    else:
        report["reason"] = f"no confidence gained {MIN_GAIN:.0%} NDCG@{k} over presence and " \
            "over the same counts shuffled (mean of the folds, and ahead on each)"
    return report


def fold(plays: sp.csr_matrix, seed: int) -> tuple[sp.csr_matrix, sp.csr_matrix, sp.csr_matrix]:
    """A seeded 20% of each listener's likes held out: (the rest's counts, the rest binary,
    the held-out likes binary)."""
    fit_plays, validation = holdout_split(plays, seed=seed)
    return fit_plays, binarize(fit_plays), binarize(validation)


def fitted_matrix(plays: sp.csr_matrix, report: dict) -> sp.csr_matrix:
    """What the chosen model is fitted on: confidence at the validated alpha, else presence."""
    if report.get("used"):
        return confident(plays, report["alpha"])
    return binarize(plays.tocsr())
