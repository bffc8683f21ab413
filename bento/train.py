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
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from bento.content import content_neighbours, item_vectors
from bento.memory import fit_warning
from bento.options import DEFAULT_TIME_BUDGET, add_search_options
from bento.plot import evaluation_plot
from bento.playcounts import fitted_matrix, training_weights
from bento.preflight import PreflightError, check_outputs, check_room
from bento.recency import like_times
from bento.recsys import stats
from bento.recsys.algorithms import EASE_MAX_ITEMS, FITTERS, fit
from bento.recsys.dataio import (INTERACTIONS, PARQUET_INTERACTIONS, PLAYLISTS, USERS, Dataset,
                                 DataError, Playlist, load_dataset)
from bento.recsys.evaluation import evaluate, holdout_split
from bento.recsys.matrix import InteractionMatrix, binarize, build_matrix
from bento.recsys.model import ItemItemModel
from bento.recsys.tuning import Choice, choose
from bento.signals import Signals, choose_signals
from bento.storemeta import model_metadata
from bento.tracking import flat_metrics, log_training

DEFAULT_MODEL_NAME = "playlist_recommender"
# matrix -> (train part, held-out part), binary user x item matrices
Split = Callable[[InteractionMatrix], tuple]
EVAL_MAX_USERS = 20_000
# Of --time-budget, the settings search may spend this share; the signal checks the rest.
SEARCH_SHARE = 0.75
ENGINES = ("local", "spark")


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def fingerprint(data_dir: Path) -> str:
    """A short hash of the data files, so a model says which data made it."""
    digest = hashlib.sha256()
    parquet = data_dir / PARQUET_INTERACTIONS
    parts = sorted(parquet.glob("*.parquet")) if parquet.is_dir() else [parquet]
    for path in [data_dir / INTERACTIONS, *parts, data_dir / PLAYLISTS, data_dir / USERS]:
        if path.is_file():
            digest.update(str(path.relative_to(data_dir)).encode())
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
    add_search_options(parser)
    args = parser.parse_args(argv)
    if not 1 <= args.k <= 100:
        parser.error("--k must be between 1 and 100")
    return args


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
    return lambda matrix: holdout_split(binarize(matrix.user_items), seed=seed)


def load(data_dir: Path, spark=None) -> tuple[InteractionMatrix, dict[str, Playlist],
                                              list[str]]:
    """(matrix, playlists, warnings) of a data dir: its interactions.csv loaded here, or its
    interactions.parquet (gateway.export --likes parquet) read by the Spark engine `spark`."""
    data_dir = Path(data_dir)
    parquet = data_dir / PARQUET_INTERACTIONS
    if not parquet.exists():
        dataset = load_with_progress(data_dir)
        return build_matrix(dataset), dataset.playlists, dataset.warnings
    if (data_dir / INTERACTIONS).exists():
        raise DataError(data_dir, None, f"holds both {INTERACTIONS} and {PARQUET_INTERACTIONS}: "
                                        "keep one")
    if spark is None:
        raise DataError(parquet, None, "a Parquet snapshot is read by Spark: train with "
                                       "--engine spark (docs/SPARK.md), or export CSV")
    from bento.spark_snapshot import read_snapshot

    return read_snapshot(spark.spark, data_dir)


@contextlib.contextmanager
def summing_engine(name: str):
    """Every Gram inside the block is summed by engine `name` (stats.summed_by); yields the
    Spark engine, None for local."""
    if name not in ENGINES:
        raise ValueError(f"unknown engine {name!r}; choose from {list(ENGINES)}")
    if name == "local":
        yield None
        return
    from bento.spark import Spark  # PySpark and Java only for --engine spark

    log("starting Spark ...")
    engine = Spark()
    try:
        with stats.summed_by(engine):
            yield engine
    finally:
        engine.close()


def train(data_dir: Path, algorithm: str = "auto", k: int = 10, seed: int = 0,
          with_eval: bool = True, split: Split | None = None,
          time_budget: float = DEFAULT_TIME_BUDGET, engine: str = "local",
          half_life_days: float | bool | None = None,
          before_search: Callable[[int], None] | None = None) -> Training:
    """Load, choose settings and signals (bento.signals; `half_life_days` as
    --recency-half-life-days), evaluate against popularity on a holdout (`split`, default
    `random_holdout(seed)`), fit on all; the listener statistics summed by `engine`.
    `before_search(playlists)` runs once the data is loaded, before any search."""
    if engine == "local":
        warning = fit_warning(Path(data_dir), EASE_MAX_ITEMS)
        if warning:
            log(f"warning: {warning}")
    with summing_engine(engine) as spark:
        return train_with(data_dir, algorithm, k, seed, with_eval, split, time_budget, spark,
                          half_life_days, before_search)


def train_with(data_dir: Path, algorithm: str, k: int, seed: int, with_eval: bool,
               split: Split | None, time_budget: float, spark=None,
               half_life_days: float | bool | None = None,
               before_search: Callable[[int], None] | None = None) -> Training:
    started, cpu_started = time.perf_counter(), time.process_time()

    def step(message: str) -> None:  # each step with the wall and CPU seconds since the start
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu_started
        log(f"[{wall:6.1f}s, cpu {cpu:6.1f}s] {message}")

    matrix, playlists, warnings = load(data_dir, spark)
    for warning in warnings:
        log(f"warning: {warning}")
    user_items = binarize(matrix.user_items)
    n_users, n_items = matrix.shape
    step(f"loaded {matrix.user_items.nnz} interactions, {n_users} users, {n_items} playlists")
    if before_search is not None:
        before_search(n_items)

    metrics: dict[str, dict] = {}
    holdout = None
    train_part = user_items
    if with_eval:
        holdout = train_part, test = (split or random_holdout(seed))(matrix)
        step("choosing settings on a validation split of the training part ...")
    budget = time_budget or None  # 0: no bound
    deadline = None if budget is None else time.monotonic() + budget
    choice = choose(train_part, matrix.item_ids, algorithm, k, seed, progress=log,
                    time_budget=None if budget is None else budget * SEARCH_SHARE)
    step("content neighbours and the content, recency and play-count signals on validation ...")
    similarity = content_neighbours(item_vectors(matrix.item_ids, {
        p.id: {"name": p.name, "description": p.description, "tags": p.tags}
        for p in playlists.values()}), deadline=deadline)
    train_plays = training_weights(matrix.user_items, train_part)
    signals = choose_signals(train_part, like_times(matrix), matrix.item_ids, similarity,
                             choice.algorithm, choice.params, k, seed, half_life_days, log,
                             deadline, train_plays)
    if with_eval:
        step(f"evaluating {choice.algorithm} {choice.params} on the holdout ...")
        for label, name, params in (("model", choice.algorithm, choice.params),
                                    ("popularity", "popularity", {})):
            fitted_on = train_part if label == "popularity" else fitted_matrix(
                train_plays, signals.weights)
            candidate = fit(name, fitted_on, matrix.item_ids, params)
            if label == "model":
                candidate = signals.apply(candidate, similarity, train_part, seed)
            metrics[label] = evaluate_at_k(candidate, train_part, test, k, seed,
                                           progress=f"evaluating {label}")
        print_table({f"{choice.algorithm} (chosen)": metrics["model"],
                     "popularity (baseline)": metrics["popularity"]}, k)

    step(f"fitting {choice.algorithm} on all data ...")
    model = signals.apply(fit(choice.algorithm, fitted_matrix(matrix.user_items, signals.weights),
                              matrix.item_ids, choice.params), similarity, user_items, seed)
    catalogue = {p.id: {"name": p.name, "tags": p.tags} for p in playlists.values()}
    dated = matrix.liked_at[~np.isnan(matrix.liked_at)]
    return Training(model, choice, metrics, holdout, matrix.item_ids, catalogue,
                    {"users": n_users, "playlists": n_items,
                     "interactions": int(matrix.user_items.nnz)},
                    fingerprint(Path(data_dir)), float(dated.max()) if dated.size else None,
                    signals)


def load_with_progress(data_dir: Path) -> Dataset:
    """load_dataset with a progress bar (ETA) over the bytes of the interactions file."""
    from tqdm import tqdm

    interactions = data_dir / INTERACTIONS
    size = interactions.stat().st_size if interactions.is_file() else 0
    with tqdm(total=size, desc=f"loading {data_dir}", unit="B", unit_scale=True,
              mininterval=1.0) as bar:
        return load_dataset(data_dir, progress=bar.update)


def evaluate_at_k(model: ItemItemModel, train_part, test, k: int, seed: int,
                  progress: str | None = None) -> dict[str, float]:
    """The holdout metrics every report uses (one user sample per seed, so runs compare)."""
    return at_k(evaluate(model, train_part, test, k, max_users=EVAL_MAX_USERS, seed=seed,
                         progress=progress), k)


class Unfinished(Exception):
    """The training was done, a step after it failed: what was computed and where its report
    went are in the message."""


def run(args: argparse.Namespace) -> str:
    started = time.perf_counter()
    check_outputs(args.model_name, args.metrics_out)  # before minutes of search, not after
    training = train(args.data, args.algorithm, args.k, args.seed, not args.no_eval,
                     time_budget=args.time_budget, engine=args.engine,
                     half_life_days=args.recency_half_life_days, before_search=check_room)
    try:
        tag = save_to_store(args.model_name, args.k, args.seed, training)
    except Exception as err:  # disk full, store gone...: keep the figures, say what failed
        raise unfinished(training, args, None, "saving it to the model store", err) from err
    if args.metrics_out:
        write_metrics(args.metrics_out, tag, args.k, training)
    if os.environ.get("MLFLOW_TRACKING_URI"):
        try:
            log_run(tag, args, training)
        except Exception as err:  # the server went away during the training
            raise unfinished(training, args, tag, "logging its MLflow run", err) from err
    log(f"saved {tag} in {time.perf_counter() - started:.1f}s")
    return tag


def unfinished(training: Training, args: argparse.Namespace, tag: str | None, step: str,
               err: Exception) -> Unfinished:
    """Write the report (to --metrics-out, else a temp file) and word what was kept."""
    path = args.metrics_out or Path(tempfile.gettempdir()) / (
        f"bento-train-{training.fingerprint}-{int(time.time())}.json")
    try:
        write_metrics(path, tag, args.k, training)
        where = f"the report is in {path}"
    except OSError as write_err:
        where = f"the report could not be written to {path} either ({write_err})"
    figures = training.metrics.get("model") or {}
    saved = f"saved as {tag}, " if tag else ""
    return Unfinished(
        f"trained {training.choice.algorithm} {json.dumps(training.choice.params)} "
        f"({', '.join(f'{name} {value}' for name, value in figures.items()) or 'no holdout'}), "
        f"{saved}but {step} failed: {type(err).__name__}: {err}; {where}")


def log_run(tag: str, args: argparse.Namespace, training: Training) -> None:
    """The training's MLflow run: parameters, metrics, fingerprint and evaluation plot."""
    params = {"algorithm": training.choice.algorithm, "params": training.choice.params,
              "k": args.k, "seed": args.seed, "signals": training.signals.metadata(),
              "search": training.choice.search}
    with tempfile.TemporaryDirectory(prefix="train-plot-") as scratch:
        plot = evaluation_plot(Path(scratch) / "evaluation.png", args.k, {
            f"model ({training.choice.algorithm})": training.metrics.get("model"),
            "popularity": training.metrics.get("popularity")}) if training.metrics else None
        run_id = log_training(tag, params, flat_metrics(training.metrics), training.fingerprint,
                              plot)
    log(f"MLflow run {run_id} at {os.environ['MLFLOW_TRACKING_URI']}")


def write_metrics(path: Path, tag: str | None, k: int, training: Training) -> None:
    """`--metrics-out`: metrics under "metrics" by model label, the algorithm by its name."""
    path.write_text(json.dumps({
        "model": tag, "algorithm": training.choice.algorithm, "params": training.choice.params,
        "search": training.choice.search, "k": k, "dataset": training.fingerprint,
        "counts": training.counts, "metrics": training.metrics,
    }, indent=2))


def save_to_store(model_name: str, k: int, seed: int, training: Training) -> str:
    """Write inside `bentoml.models.create`: an exception there leaves no model behind."""
    import bentoml  # imported late: data errors should not pay for BentoML's import

    model = training.model
    labels = {"algorithm": model.algorithm, "dataset": training.fingerprint}
    with bentoml.models.create(model_name, labels=labels,
                               metadata=model_metadata(training, k, seed)) as bento_model:
        model.save(Path(bento_model.path), training.catalogue)
    return str(bento_model.tag)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        tag = run(args)
    except (DataError, PreflightError) as err:  # nothing was computed
        print(f"error: {err}", file=sys.stderr)
        return 2
    except Unfinished as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    print(tag)
    return 0


if __name__ == "__main__":
    sys.exit(main())
