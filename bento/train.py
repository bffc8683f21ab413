"""Train a playlist recommender and save it to the BentoML model store.

    python -m bento.train --data data/sample

Steps: load and validate the data dir -> choose algorithm settings on a validation split ->
evaluate on a seeded per-user holdout against popularity -> fit on all data -> save.
A data error exits 2 with `file:line: reason` and leaves the model store untouched.
"""
from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import platform
import sys
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

import numpy as np
import scipy
import sklearn

from bento.content import content_neighbours, item_vectors
from bento.memory import fit_warning
from bento.recsys import stats
from bento.recsys.algorithms import EASE_MAX_ITEMS, FITTERS, fit
from bento.recsys.dataio import (INTERACTIONS, PLAYLISTS, USERS, Dataset, DataError,
                                 load_dataset)
from bento.recsys.evaluation import evaluate, holdout_split
from bento.recsys.matrix import InteractionMatrix, binarize, build_matrix
from bento.recsys.model import ItemItemModel
from bento.recsys.tuning import Choice, choose
from bento.signals import Signals, choose_signals, like_times

DEFAULT_MODEL_NAME = "playlist_recommender"
# (matrix, dataset) -> (train part, held-out part), binary user x item matrices
Split = Callable[[InteractionMatrix, Dataset], tuple]
EVAL_MAX_USERS = 20_000
DEFAULT_TIME_BUDGET = 120.0
ENGINES = ("local", "spark")


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
    parser.add_argument("--engine", default="local", choices=ENGINES,
                        help="who sums the listener statistics: this process, or Apache Spark "
                             "(SPARK_MASTER, default local[2]; docs/SPARK.md)")
    parser.add_argument("--no-eval", action="store_true", help="skip the holdout evaluation")
    parser.add_argument("--metrics-out", type=Path, help="also write the metrics as JSON here")
    parser.add_argument("--time-budget", type=float, default=DEFAULT_TIME_BUDGET,
                        help="seconds of settings search; no new candidate starts after it")
    parser.add_argument("--recency-half-life-days", default="auto", type=half_life_arg,
                        help="auto: try a few half-lives on a time-ordered validation split; "
                             "DAYS: try only that one; off: never weigh likes by age")
    args = parser.parse_args(argv)
    if not 1 <= args.k <= 100:
        parser.error("--k must be between 1 and 100")
    return args


def half_life_arg(value: str) -> float | bool | None:
    """auto -> None (validate a few), off -> False, a positive number of days."""
    if value in ("auto", "off"):
        return None if value == "auto" else False
    try:
        days = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not auto, off or a number") from None
    if not days > 0 or days == float("inf"):
        raise argparse.ArgumentTypeError(f"{value!r} must be a positive number of days")
    return days


@dataclass
class Training:
    """What a training run produced: the model fitted on all data and how it was judged."""

    model: ItemItemModel
    choice: Choice
    metrics: dict[str, dict]          # {"model": ..., "popularity": ...} on the holdout
    holdout: tuple | None             # (train, test) user x item matrices, None with --no-eval
    item_ids: list[str]
    catalogue: dict[str, dict]
    counts: dict[str, int]
    fingerprint: str
    data_until: float | None          # the newest like's unix time: later likes are unseen
    signals: Signals                  # content and recency: on or off, and why


def random_holdout(seed: int) -> Split:
    """A seeded 20% of each listener's playlists (listeners with at least 3)."""
    return lambda matrix, dataset: holdout_split(binarize(matrix.user_items), seed=seed)


@contextlib.contextmanager
def summing_engine(name: str):
    """Every Gram inside the block is summed by engine `name` (stats.summed_by)."""
    if name not in ENGINES:
        raise ValueError(f"unknown engine {name!r}; choose from {list(ENGINES)}")
    if name == "local":
        yield
        return
    from bento.spark import Spark  # PySpark and Java only for --engine spark

    log("starting Spark ...")
    engine = Spark()
    try:
        with stats.summed_by(engine):
            yield
    finally:
        engine.close()


def train(data_dir: Path, algorithm: str = "auto", k: int = 10, seed: int = 0,
          with_eval: bool = True, split: Split | None = None,
          time_budget: float = DEFAULT_TIME_BUDGET, engine: str = "local",
          half_life_days: float | bool | None = None) -> Training:
    """Load, choose settings and signals (bento.signals; `half_life_days` as
    --recency-half-life-days), evaluate against popularity on a holdout (`split`, default
    `random_holdout(seed)`), fit on all; the listener statistics summed by `engine`."""
    if engine == "local":
        warning = fit_warning(Path(data_dir), EASE_MAX_ITEMS)
        if warning:
            log(f"warning: {warning}")
    with summing_engine(engine):
        return train_with(data_dir, algorithm, k, seed, with_eval, split, time_budget,
                          half_life_days)


def train_with(data_dir: Path, algorithm: str, k: int, seed: int, with_eval: bool,
               split: Split | None, time_budget: float,
               half_life_days: float | bool | None = None) -> Training:
    started = time.perf_counter()
    log(f"loading {data_dir} ...")
    dataset = load_dataset(data_dir)
    for warning in dataset.warnings:
        log(f"warning: {warning}")
    matrix = build_matrix(dataset)
    user_items = binarize(matrix.user_items)
    n_users, n_items = matrix.shape
    log(f"{len(dataset)} interactions, {n_users} users, {n_items} playlists "
        f"({time.perf_counter() - started:.1f}s)")

    metrics: dict[str, dict] = {}
    holdout = None
    similarity = content_neighbours(item_vectors(matrix.item_ids, {
        p.id: {"name": p.name, "description": p.description, "tags": p.tags}
        for p in dataset.playlists.values()}))
    times = like_times(dataset, matrix)
    train_part = user_items
    if with_eval:
        holdout = train_part, test = (split or random_holdout(seed))(matrix, dataset)
        log("choosing settings on a validation split of the training part ...")
    choice = choose(train_part, matrix.item_ids, algorithm, k, seed, progress=log,
                    time_budget=time_budget)
    signals = choose_signals(train_part, times, matrix.item_ids, similarity, choice.algorithm,
                             choice.params, k, seed, half_life_days, log)
    if with_eval:
        log(f"evaluating {choice.algorithm} {choice.params} on the holdout ...")
        for label, name, params in (("model", choice.algorithm, choice.params),
                                    ("popularity", "popularity", {})):
            candidate = fit(name, train_part, matrix.item_ids, params)
            if label == "model":
                candidate = signals.apply(candidate, similarity, train_part, seed)
            metrics[label] = evaluate_at_k(candidate, train_part, test, k, seed,
                                           progress=f"evaluating {label}")
        print_table({f"{choice.algorithm} (chosen)": metrics["model"],
                     "popularity (baseline)": metrics["popularity"]}, k)

    log(f"fitting {choice.algorithm} on all data ...")
    model = signals.apply(fit(choice.algorithm, user_items, matrix.item_ids, choice.params),
                          similarity, user_items, seed)
    catalogue = {p.id: {"name": p.name, "tags": p.tags} for p in dataset.playlists.values()}
    stamps = [stamp for stamp in dataset.timestamps if stamp is not None]
    return Training(model, choice, metrics, holdout, matrix.item_ids, catalogue,
                    {"users": n_users, "playlists": n_items, "interactions": len(dataset)},
                    fingerprint(data_dir), max(stamps) if stamps else None, signals)


def evaluate_at_k(model: ItemItemModel, train_part, test, k: int, seed: int,
                  progress: str | None = None) -> dict[str, float]:
    """The holdout metrics every report uses (one user sample per seed, so runs compare)."""
    return at_k(evaluate(model, train_part, test, k, max_users=EVAL_MAX_USERS, seed=seed,
                         progress=progress), k)


def run(args: argparse.Namespace) -> str:
    started = time.perf_counter()
    training = train(args.data, args.algorithm, args.k, args.seed, not args.no_eval,
                     time_budget=args.time_budget, engine=args.engine,
                     half_life_days=args.recency_half_life_days)
    tag = save_to_store(args.model_name, args.k, args.seed, training)
    if args.metrics_out:
        write_metrics(args.metrics_out, tag, args.k, training)
    log(f"saved {tag} in {time.perf_counter() - started:.1f}s")
    return tag


def write_metrics(path: Path, tag: str, k: int, training: Training) -> None:
    """`--metrics-out`: metrics under "metrics" by model label, the algorithm by its name."""
    path.write_text(json.dumps({
        "model": tag, "algorithm": training.choice.algorithm, "params": training.choice.params,
        "k": k, "dataset": training.fingerprint, "counts": training.counts,
        "metrics": training.metrics,
    }, indent=2))


def save_to_store(model_name: str, k: int, seed: int, training: Training) -> str:
    """Write inside `bentoml.models.create`: an exception there leaves no model behind."""
    import bentoml  # imported late: data errors should not pay for BentoML's import

    model = training.model
    metadata = {
        "algorithm": model.algorithm,
        "parameters": model.params,
        # Binary presence (plays are not used); content and recency where validation showed a
        # gain, each with the figures that decided it (bento.signals).
        "signals": training.signals.metadata(),
        "metrics": training.metrics.get("model", {}),
        "baseline_metrics": training.metrics.get("popularity", {}),
        "counts": training.counts,
        "data_until": training.data_until,
        "k": k,
        "seed": seed,
        "trained_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "versions": {"python": platform.python_version(), "numpy": np.__version__,
                     "scipy": scipy.__version__, "scikit-learn": sklearn.__version__,
                     "bentoml": bentoml.__version__},
    }
    labels = {"algorithm": model.algorithm, "dataset": training.fingerprint}
    with bentoml.models.create(model_name, labels=labels, metadata=metadata) as bento_model:
        model.save(Path(bento_model.path), training.catalogue)
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
