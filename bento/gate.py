"""The retrain gate: may a freshly trained candidate replace the serving model (the champion)?

Both are scored on the same holdout of the same snapshot: the candidate as fitted on the
holdout's training part, the champion with the item-item weights it serves, scoring the same
histories (playlists it does not know just miss). The holdout is each listener's newest likes
made after the champion's data (`fresh_split`): a random holdout would contain likes the
champion was trained on and flatter it; too few such listeners and there is nothing to judge.
Then: no drop beyond a tolerance on Recall@K and NDCG@K, the model fits the Bento's memory
limit, and p99 of in-process recommend calls stays within a bound. No champion yet: the first
model passes the comparison, and the report says so.
"""
from __future__ import annotations

import os
import time
from dataclasses import asdict, dataclass, fields

import numpy as np
import scipy.sparse as sp

from bento.recsys.matrix import InteractionMatrix, binarize
from bento.recsys.model import ItemItemModel

MIB = 1024 * 1024
COMPARED = ("recall", "ndcg")


@dataclass(frozen=True)
class GateSettings:
    """Read from RETRAIN_<NAME> environment variables (e.g. RETRAIN_TOLERANCE=0.02)."""

    tolerance: float = 0.01             # absolute drop allowed on Recall@K and NDCG@K
    memory_limit_mib: float = 1024.0    # the Bento container's limit (k8s deployment-bento)
    bento_base_mib: float = 320.0       # the Bento's RSS before the model is loaded
    p99_ms: float = 50.0                # bound on p99 of in-process recommend calls
    latency_samples: int = 500          # how many recommend calls to time
    min_fresh_users: int = 20           # listeners with new likes needed to compare at all

    @classmethod
    def from_env(cls, env=None) -> "GateSettings":
        """Settings from the environment; ValueError names the variable that is wrong."""
        env = os.environ if env is None else env
        values = {}
        for spec in fields(cls):
            name = f"RETRAIN_{spec.name.upper()}"
            if env.get(name, "").strip():
                try:
                    values[spec.name] = (int if spec.type == "int" else float)(env[name])
                except ValueError:
                    raise ValueError(f"{name}={env[name]!r} is not a number") from None
                if values[spec.name] < 0:
                    raise ValueError(f"{name}={env[name]!r} must not be negative")
        return cls(**values)


def fresh_split(cutoff: float, fraction: float = 0.2, seed: int = 0):
    """A split holding out each listener's newest likes made after `cutoff` (unix seconds):
    a `fraction` of them, at least one, and never the listener's only like."""
    def split(matrix: InteractionMatrix) -> tuple[sp.csr_matrix, ...]:
        liked_at = matrix.liked_at
        # 0.5 marks an old like, 1 + age after the cutoff a new one: never an implicit zero.
        newness = np.where(np.isnan(liked_at) | (liked_at <= cutoff), 0.5,
                           1.0 + liked_at - cutoff)
        stamped = sp.csr_matrix((newness, matrix.user_items.indices, matrix.user_items.indptr),
                                shape=matrix.shape)
        user_items = binarize(matrix.user_items)
        counts = np.diff(stamped.indptr)
        user_of = np.repeat(np.arange(stamped.shape[0]), counts)
        # Ties (likes in the same second) broken at random, not by column: else the same
        # playlist would be every such listener's held-out like and absent from training.
        tie_break = np.random.default_rng(seed).random(stamped.nnz)
        order = np.lexsort((tie_break, -stamped.data, user_of))
        rank = np.empty(stamped.nnz, dtype=np.int64)
        rank[order] = np.arange(stamped.nnz) - stamped.indptr[user_of[order]]
        n_new = np.bincount(user_of, weights=stamped.data > 1, minlength=stamped.shape[0])
        n_test = np.minimum(np.maximum(1, (n_new * fraction).astype(int)), n_new)
        n_test = np.minimum(n_test, counts - 1).astype(np.int64)
        in_test = rank < n_test[user_of]
        coo = stamped.tocoo()

        def part(mask: np.ndarray) -> sp.csr_matrix:
            return sp.csr_matrix((np.ones(int(mask.sum()), dtype=np.float32),
                                  (coo.row[mask], coo.col[mask])), shape=user_items.shape)

        return part(~in_test), part(in_test)
    return split


def model_mib(model: ItemItemModel) -> float:
    """Bytes the model's arrays take once loaded (what grows with the catalogue)."""
    arrays = [model.popularity, model.popularity_prior]
    for matrix in (model.weights, model.content):
        if sp.issparse(matrix):
            arrays += [matrix.data, matrix.indices, matrix.indptr]
        elif matrix is not None:
            arrays.append(matrix)
    if model.content is not None:  # its posting lists are a second copy
        arrays += [model.content.data, model.content.indices, model.content_weight]
    if model.factors is not None:
        arrays += [model.factors, model.gram]
    return sum(np.asarray(array).nbytes for array in arrays) / MIB


def recommend_p99_ms(model: ItemItemModel, user_items: sp.csr_matrix, k: int, samples: int,
                     seed: int = 0) -> float:
    """p99 of what the Bento does per request (ids -> indices, top-k, explanations), timed
    in-process on histories of real listeners from the snapshot. In CPU seconds of this
    thread with BLAS held to it, not wall seconds: on a busy node the wall clock also counts
    waiting for a core (and process time counts BLAS threads spinning idle), so the same
    model would pass one night and fail the next."""
    from threadpoolctl import threadpool_limits

    users = np.flatnonzero(np.diff(user_items.indptr))
    if users.size == 0 or samples == 0:
        return 0.0
    chosen = np.random.default_rng(seed).choice(users, samples, replace=True)
    histories = [[model.item_ids[i] for i in user_items.indices[
        user_items.indptr[u]:user_items.indptr[u + 1]]] for u in chosen]
    timings = []
    with threadpool_limits(1, "blas"):
        for history in histories:
            started = time.thread_time()
            known, _ = model.known(history)
            model.answer(known, k)
            timings.append(time.thread_time() - started)
    return float(np.percentile(timings, 99) * 1000)


def champion_holdout(champion: ItemItemModel, item_ids: list[str], train: sp.csr_matrix,
                     test: sp.csr_matrix) -> tuple[ItemItemModel, sp.csr_matrix, sp.csr_matrix]:
    """The champion and the holdout in one item space (snapshot items first, then the
    champion's own), so `evaluate` scores the champion on exactly the candidate's holdout."""
    aligned = champion.reindexed(item_ids)
    shape = (train.shape[0], aligned.n_items)
    padded = []
    for part in (train, test):
        part = part.tocsr(copy=True)
        part.resize(shape)
        padded.append(part)
    return aligned, padded[0], padded[1]


def verdict(candidate: dict, champion: dict | None, settings: GateSettings, k: int) -> dict:
    """Every check with its figures, and the decision. `candidate`/`champion` hold the holdout
    metrics (`recall@K`...) plus `size_mib` and `p99_ms` for the candidate."""
    checks = []
    if champion is None:
        notes = ["no champion yet: the first model passes the comparison by definition"]
    else:
        notes = []
        for metric in (f"{name}@{k}" for name in COMPARED):
            bound = champion[metric] - settings.tolerance
            checks.append({"check": metric, "candidate": candidate[metric],
                           "champion": champion[metric], "bound": round(bound, 5),
                           "passed": candidate[metric] >= bound})
        users = champion.get("evaluated_users", 0)
        checks.append({"check": "fresh_users", "candidate": users,
                       "bound": settings.min_fresh_users,
                       "passed": users >= settings.min_fresh_users})
    memory = settings.bento_base_mib + candidate["size_mib"]
    checks.append({"check": "memory_mib", "candidate": round(memory, 1),
                   "bound": settings.memory_limit_mib,
                   "passed": memory <= settings.memory_limit_mib})
    checks.append({"check": "p99_ms", "candidate": round(candidate["p99_ms"], 3),
                   "bound": settings.p99_ms, "passed": candidate["p99_ms"] <= settings.p99_ms})
    failed = [check for check in checks if not check["passed"]]
    reasons = [f"{c['check']} {c['candidate']} is "
               f"{'above' if c['check'] in ('memory_mib', 'p99_ms') else 'below'} "
               f"the bound {c['bound']}" for c in failed]
    if any(c["check"] == "fresh_users" for c in failed):
        reasons.append("too few listeners liked anything since the champion's data: "
                       "nothing new to judge a candidate on")
    return {"passed": not failed, "checks": checks, "reasons": reasons, "notes": notes,
            "settings": asdict(settings)}
