"""Recency, the second signal `bento.signals` validates: like times as a matrix, a split that
holds out each listener's newest likes, history weights by half-life, and the check that
switches it on only when it gains MIN_GAIN on those newest likes. MIN_GAIN and VALIDATION_USERS
are the policy both signal checks share."""
from __future__ import annotations

from typing import Callable

import numpy as np
import scipy.sparse as sp

from bento.recsys.algorithms import fit
from bento.recsys.evaluation import evaluate, recall_ndcg
from bento.recsys.matrix import InteractionMatrix, part
from bento.recsys.model import ItemItemModel
from bento.recsys.weighting import DAY_SECONDS, recency_weights

MIN_GAIN = 0.02          # relative gain a signal must show on validation to be switched on
VALIDATION_USERS = 2000  # listeners each signal check scores
HALF_LIFE_FACTORS = (0.25, 1.0, 4.0)  # times the median age of a like in the histories
HALF_LIFE_STEPS_OUT = 2  # further x4 steps when the best half-life is at an end of the grid


def like_times(matrix: InteractionMatrix) -> sp.csr_matrix:
    """users x items: when each like happened (its newest time for a repeated pair; NaN when
    unknown), on `matrix`'s rows and columns."""
    likes = matrix.user_items
    return sp.csr_matrix((matrix.liked_at, likes.indices, likes.indptr), shape=matrix.shape)


def entry_times(times: sp.csr_matrix, binary: sp.csr_matrix) -> sp.csr_matrix:
    """The like times (`times`, from `like_times`) of `binary`'s entries, entry by entry."""
    binary = binary.tocsr()
    binary.sort_indices()
    lookup = times.tocsr()
    lookup.sort_indices()
    rows = np.repeat(np.arange(binary.shape[0]), np.diff(binary.indptr))
    keys = rows.astype(np.int64) * binary.shape[1] + binary.indices
    lookup_rows = np.repeat(np.arange(lookup.shape[0]), np.diff(lookup.indptr))
    lookup_keys = lookup_rows.astype(np.int64) * lookup.shape[1] + lookup.indices
    found = np.minimum(np.searchsorted(lookup_keys, keys), max(lookup_keys.size - 1, 0))
    values = np.full(keys.size, np.nan)
    if lookup_keys.size:
        hit = lookup_keys[found] == keys
        values[hit] = lookup.data[found[hit]]
    return sp.csr_matrix((values, binary.indices.copy(), binary.indptr.copy()),
                         shape=binary.shape)


def time_split(times: sp.csr_matrix, fraction: float = 0.2, min_items: int = 3,
               ) -> tuple[sp.csr_matrix, sp.csr_matrix]:
    """Each listener's newest `fraction` of likes (at least one, listeners with `min_items`)
    held out: (the older likes with their times, the held-out likes, binary)."""
    counts = np.diff(times.indptr)
    rows = np.repeat(np.arange(times.shape[0]), counts)
    newest_first = np.lexsort((-np.nan_to_num(times.data, nan=-np.inf), rows))
    rank = np.empty(times.nnz, dtype=np.int64)
    rank[newest_first] = np.arange(times.nnz) - times.indptr[rows[newest_first]]
    n_test = np.where(counts >= min_items, np.maximum(1, (counts * fraction).astype(int)), 0)
    in_test = rank < n_test[rows]
    test = part(times, in_test)
    test.data[:] = 1.0
    return part(times, ~in_test), test


def weighted_histories(times: sp.csr_matrix, half_life_days: float) -> sp.csr_matrix:
    """Each entry's recency weight within its row (the row's newest like weighs 1)."""
    counts = np.diff(times.indptr)
    rows = np.repeat(np.arange(times.shape[0]), counts)
    newest = np.full(times.shape[0], np.nan)
    filled = counts > 0
    newest[filled] = np.fmax.reduceat(times.data, times.indptr[:-1][filled])
    weights = recency_weights(times.data, half_life_days, newest[rows])
    return sp.csr_matrix((weights.astype(np.float32), times.indices, times.indptr),
                         shape=times.shape)


def validate_recency(times: sp.csr_matrix, item_ids: list[str], algorithm: str, params: dict,
                     k: int, seed: int, half_life_days: float | None = None,
                     content: Callable[[ItemItemModel, sp.csr_matrix], ItemItemModel]
                     | None = None, progress: Callable[[str], None] = lambda _: None) -> dict:
    """The recency report. `times`: the training likes' times; `half_life_days`: try only
    this one (default: a few multiples of the median age of a like); `content`: how the served
    model adds content, so recency is judged on the model as it will be served."""
    stamped = float((~np.isnan(times.data)).mean()) if times.nnz else 0.0
    if stamped < 0.5:
        return {"used": False, "reason": f"only {stamped:.0%} of the likes have a time"}
    older, newest = time_split(times)
    fit_part = older.copy()
    fit_part.data[:] = 1.0
    typical = median_age_days(older)
    if half_life_days is None and typical <= 0:
        return {"used": False, "reason": "every listener's likes share one moment"}
    grid = [half_life_days] if half_life_days else [
        float(f"{typical * factor:.3g}") for factor in HALF_LIFE_FACTORS]
    progress(f"recency: each listener's newest likes held out, fitting {algorithm} on the older "
             f"ones; half-lives {grid} days ...")
    model = fit(algorithm, fit_part, item_ids, params)
    if content is not None:
        model = content(model, fit_part)
    baseline = recall_ndcg(evaluate(model, fit_part, newest, k, seed=seed,
                                    max_users=VALIDATION_USERS))
    tried = []

    def try_half_life(days: float) -> None:
        figures = recall_ndcg(evaluate(model, fit_part, newest, k, seed=seed,
                                       max_users=VALIDATION_USERS,
                                       weighted=weighted_histories(older, days)))
        tried.append({"half_life_days": days, **figures})
        progress(f"  half-life {days} days: ndcg@{k} {figures['ndcg']:.4f} "
                 f"(unweighted {baseline['ndcg']:.4f})")

    for days in grid:
        try_half_life(days)
    for _ in range(HALF_LIFE_STEPS_OUT if not half_life_days else 0):
        # The best at an end of what was tried: one more step (x4) that way.
        ordered = sorted(tried, key=lambda row: row["half_life_days"])
        best = max(ordered, key=lambda row: row["ndcg"])
        if best is ordered[0]:
            try_half_life(float(f"{best['half_life_days'] / 4:.3g}"))
        elif best is ordered[-1]:
            try_half_life(float(f"{best['half_life_days'] * 4:.3g}"))
        else:
            break
    best = max(tried, key=lambda row: row["ndcg"])
    used = best["ndcg"] > baseline["ndcg"] * (1 + MIN_GAIN)
    report = {"used": used, "median_age_days": round(typical, 3), "without": baseline,
              "tried": tried}
    if used:
        report.update(half_life_days=best["half_life_days"], chosen=best)
    else:
        report["reason"] = f"no half-life gained {MIN_GAIN:.0%} NDCG@{k} on the newest likes"
    return report


def median_age_days(times: sp.csr_matrix) -> float:
    """The median age of a like, counted from its listener's newest like, in days."""
    counts = np.diff(times.indptr)
    filled = counts > 0
    newest = np.fmax.reduceat(times.data, times.indptr[:-1][filled])
    ages = np.repeat(newest, counts[filled]) - times.data
    ages = ages[~np.isnan(ages)]
    return float(np.median(ages)) / DAY_SECONDS if ages.size else 0.0
