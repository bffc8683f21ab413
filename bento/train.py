"""Train a playlist recommender and save it to the BentoML model store.

    python -m bento.train --data data/sample

Steps: load and validate the data dir -> choose algorithm settings on a validation split ->
evaluate on a seeded per-user holdout against popularity -> fit on all data -> save.
A data error exits 2 with `file:line: reason` and leaves the model store untouched.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import platform
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import scipy
import sklearn

from bento.recsys.algorithms import FITTERS, fit
from bento.recsys.dataio import INTERACTIONS, PLAYLISTS, USERS, DataError, load_dataset
from bento.recsys.evaluation import evaluate, holdout_split
from bento.recsys.matrix import binarize, build_matrix
from bento.recsys.tuning import choose

DEFAULT_MODEL_NAME = "playlist_recommender"
EVAL_MAX_USERS = 20_000
DEFAULT_TIME_BUDGET = 120.0


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def fingerprint(data_dir: Path) -> str:
    """A short hash of the data files, so a model says which data made it."""
    digest = hashlib.sha256()
    for name in (INTERACTIONS, PLAYLISTS, USERS):
        path = data_dir / name
        if path.is_file():
            digest.update(name.encode())
            with open(path, "rb") as handle:
                for chunk in iter(lambda: handle.read(1 << 20), b""):
                    digest.update(chunk)
    return digest.hexdigest()[:16]


def at_k(metrics: dict[str, float], k: int) -> dict[str, float]:
    named = {f"{name}@{k}": round(metrics[name], 5)
             for name in ("recall", "ndcg", "precision", "coverage")}
    named["evaluated_users"] = metrics["users"]
    return named


def print_table(rows: dict[str, dict[str, float]], k: int) -> None:
    columns = [f"{name}@{k}" for name in ("recall", "ndcg", "precision", "coverage")]
    print(f"{'model':<28}" + "".join(f"{c:>14}" for c in columns))
    for label, metrics in rows.items():
        print(f"{label:<28}" + "".join(f"{metrics[c]:>14.4f}" for c in columns))


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, required=True, help="data directory (CSV files)")
    parser.add_argument("--model-name", default=DEFAULT_MODEL_NAME)
    parser.add_argument("--algorithm", default="auto", choices=["auto", *FITTERS],
                        help="auto: the best on a validation split")
    parser.add_argument("--k", type=int, default=10, help="cut-off for the metrics")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-eval", action="store_true", help="skip the holdout evaluation")
    parser.add_argument("--metrics-out", type=Path, help="also write the metrics as JSON here")
    parser.add_argument("--time-budget", type=float, default=DEFAULT_TIME_BUDGET,
                        help="seconds of settings search; no new candidate starts after it")
    args = parser.parse_args(argv)
    if not 1 <= args.k <= 100:
        parser.error("--k must be between 1 and 100")
    return args


def run(args: argparse.Namespace) -> str:
    started = time.perf_counter()
    log(f"loading {args.data} ...")
    dataset = load_dataset(args.data)
    for warning in dataset.warnings:
        log(f"warning: {warning}")
    matrix = build_matrix(dataset)
    user_items = binarize(matrix.user_items)
    n_users, n_items = matrix.shape
    log(f"{len(dataset)} interactions, {n_users} users, {n_items} playlists "
        f"({time.perf_counter() - started:.1f}s)")

    metrics: dict[str, dict] = {}
    if args.no_eval:
        choice = choose(user_items, matrix.item_ids, args.algorithm, args.k, args.seed,
                        progress=log, time_budget=args.time_budget)
    else:
        train, test = holdout_split(user_items, seed=args.seed)
        log("choosing settings on a validation split of the training part ...")
        choice = choose(train, matrix.item_ids, args.algorithm, args.k, args.seed, progress=log,
                        time_budget=args.time_budget)
        log(f"evaluating {choice.algorithm} {choice.params} on the holdout ...")
        for label, name, params in (("model", choice.algorithm, choice.params),
                                    ("popularity", "popularity", {})):
            candidate = fit(name, train, matrix.item_ids, params)
            metrics[label] = at_k(evaluate(candidate, train, test, args.k,
                                           max_users=EVAL_MAX_USERS, seed=args.seed,
                                           progress=f"evaluating {label}"), args.k)
        print_table({f"{choice.algorithm} (chosen)": metrics["model"],
                     "popularity (baseline)": metrics["popularity"]}, args.k)

    log(f"fitting {choice.algorithm} on all data ...")
    model = fit(choice.algorithm, user_items, matrix.item_ids, choice.params)
    catalogue = {p.id: {"name": p.name, "tags": p.tags} for p in dataset.playlists.values()}
    tag = save_to_store(args, model, catalogue, metrics, dataset_fingerprint=fingerprint(args.data),
                        counts={"users": n_users, "playlists": n_items,
                                "interactions": len(dataset)})
    if args.metrics_out:
        args.metrics_out.write_text(json.dumps({
            "model": tag, "algorithm_name": choice.algorithm, "params": choice.params,
            "algorithm": metrics.get("model", {}), "popularity": metrics.get("popularity", {}),
        }, indent=2))
    log(f"saved {tag} in {time.perf_counter() - started:.1f}s")
    return tag


def save_to_store(args, model, catalogue, metrics, dataset_fingerprint, counts) -> str:
    """Write inside `bentoml.models.create`: an exception there leaves no model behind."""
    import bentoml  # imported late: data errors should not pay for BentoML's import

    metadata = {
        "algorithm": model.algorithm,
        "parameters": model.params,
        # Binary presence only: plays and timestamps are not used (not validated as a gain yet).
        "signals": {"interaction_weights": False, "recency": False},
        "metrics": metrics.get("model", {}),
        "baseline_metrics": metrics.get("popularity", {}),
        "counts": counts,
        "k": args.k,
        "seed": args.seed,
        "trained_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "versions": {"python": platform.python_version(), "numpy": np.__version__,
                     "scipy": scipy.__version__, "scikit-learn": sklearn.__version__,
                     "bentoml": bentoml.__version__},
    }
    labels = {"algorithm": model.algorithm, "dataset": dataset_fingerprint}
    with bentoml.models.create(args.model_name, labels=labels, metadata=metadata) as bento_model:
        model.save(Path(bento_model.path), catalogue)
    return str(bento_model.tag)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        tag = run(args)
    except DataError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(tag)
    return 0


if __name__ == "__main__":
    sys.exit(main())
