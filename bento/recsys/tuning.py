"""Pick an algorithm and its settings on a validation split carved from the training part.

The test part is never looked at here, so the same command does well on unseen data.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import scipy.sparse as sp

from bento.recsys.algorithms import EASE_MAX_ITEMS, fit
from bento.recsys.evaluation import evaluate, holdout_split


@dataclass
class Choice:
    algorithm: str
    params: dict
    validation: dict[str, float]


def candidate_grid(algorithm: str, n_items: int) -> list[tuple[str, dict]]:
    """Settings worth trying for `algorithm` ('auto': every algorithm that fits the catalogue)."""
    grids = {
        "ease": [{"l2": l2} for l2 in (50.0, 200.0, 500.0, 1500.0, 5000.0)],
        "rp3beta": [{"alpha": a, "beta": b, "neighbours": 200}
                    for a in (0.8, 1.0) for b in (0.2, 0.4, 0.6)],
        "itemknn": [{"neighbours": n, "shrink": 10.0} for n in (50, 200)],
        "popularity": [{}],
    }
    if algorithm == "auto":
        names = ["rp3beta", "itemknn"] + (["ease"] if n_items <= EASE_MAX_ITEMS else [])
    else:
        names = [algorithm]
    return [(name, params) for name in names for params in grids[name]]


def choose(train: sp.csr_matrix, item_ids: list[str], algorithm: str = "auto", k: int = 10,
           seed: int = 0, max_users: int = 5000,
           progress: Callable[[str], None] = lambda _: None) -> Choice:
    """Best (algorithm, params) by NDCG@k on a validation holdout of `train`."""
    fit_part, validation_part = holdout_split(train, seed=seed + 1)
    best: Choice | None = None
    grid = candidate_grid(algorithm, len(item_ids))
    for step, (name, params) in enumerate(grid, start=1):
        model = fit(name, fit_part, item_ids, params)
        metrics = evaluate(model, fit_part, validation_part, k, max_users=max_users, seed=seed)
        progress(f"[{step}/{len(grid)}] {name} {params}: ndcg@{k}={metrics['ndcg']:.4f}")
        if best is None or metrics["ndcg"] > best.validation["ndcg"]:
            best = Choice(name, params, metrics)
    return best
