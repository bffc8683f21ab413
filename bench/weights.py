"""Play counts (interaction weights) as confidence: binary against weighted figures on graded
data, for the default and for tuned EASE and ALS given the same weights, and the verdict the
trainer's own check (`bento.playcounts.validate_weights`) reaches on each set.

    python -m bench.weights [--json FILE] [--write]     (--write: its section of docs/QUALITY.md)

Sets: MovieLens-100K with every rating a positive and the rating (1..5) its weight, and the
generator's sample (`bento.datagen --seed 0`) with its heavy-tailed play counts. The protocol
is bench.quality's: the same seeded test split; the default's settings come from `choose` on
presence (as `bento.train`), then the trainer's check decides on the training part alone;
"weighted" fits the same settings on confidence `1 + alpha log(1 + w)` (mean 1) at the check's
best alpha, and EASE and ALS are tuned again on that same confidence matrix. Relevance stays
binary (a held-out like is a hit whatever its count), and served histories stay lists of ids.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from bench import contenders, datasets
from bento.playcounts import confident, training_weights, validate_weights
from bento.recsys.algorithms import EASE_MAX_ITEMS, fit
from bento.recsys.evaluation import evaluate, holdout_split
from bento.recsys.matrix import binarize
from bento.recsys.tuning import choose

K = contenders.K
ROOT = Path(__file__).resolve().parent.parent
OUT_MD = ROOT / "docs" / "QUALITY.md"
HEADING = "## Play counts as confidence (interaction weights)"


def movielens_ratings() -> tuple[sp.csr_matrix, list[str], str]:
    """users x movies holding each rating (1..5), every rating a positive."""
    rows = datasets.movielens_rows()
    users, user_index = np.unique([row[0] for row in rows], return_inverse=True)
    items, item_index = np.unique([row[1] for row in rows], return_inverse=True)
    ratings = np.asarray([float(row[2]) for row in rows], dtype=np.float32)
    matrix = sp.csr_matrix((ratings, (user_index, item_index)), shape=(users.size, items.size))
    return matrix, [str(item) for item in items], "ml-100k, every rating a positive, " \
        "the rating (1..5) its weight"


def generated_plays() -> tuple[sp.csr_matrix, list[str], str]:
    """The generator's default sample with its play counts, generated fresh (no stale cache)."""
    from bento import datagen
    from bento.recsys.dataio import load_dataset
    from bento.recsys.matrix import build_matrix

    with tempfile.TemporaryDirectory() as scratch:
        datagen.generate(Path(scratch), 3000, 800, seed=0, mean_per_user=30.0)
        matrix = build_matrix(load_dataset(Path(scratch)))
    return matrix.user_items, matrix.item_ids, "bento.datagen --seed 0 (3,000 listeners, " \
        "800 playlists), its play counts the weight"


SETS = {"ml-100k-ratings": movielens_ratings, "generated-plays": generated_plays}


def scored(model, train: sp.csr_matrix, test: sp.csr_matrix) -> dict:
    metrics = evaluate(model, train, test, K, max_users=contenders.EVAL_MAX_USERS, seed=0)
    return {name: round(metrics[name], 5) for name in ("recall", "ndcg", "coverage")}


def rivals(matrix: sp.csr_matrix, binary: sp.csr_matrix, test: sp.csr_matrix,
           seed: int) -> dict:
    """Tuned reference EASE and implicit ALS fitted on `matrix` (presence or confidence)."""
    grid = [{"l2": l2} for l2 in (contenders.EASE_L2 if matrix.shape[1] <= EASE_MAX_ITEMS
                                  else contenders.EASE_L2_LARGE)]
    ease = contenders.tune(matrix, grid, lambda x, p: contenders.reference_ease(x, **p), seed)
    als = contenders.tune(matrix, contenders.als_grid(matrix),
                          lambda x, p: contenders.implicit_als(x, seed=seed, **p), seed)
    return {"ease-ref": {"params": ease, **scored(contenders.reference_ease(matrix, **ease),
                                                  binary, test)},
            "als": {"params": als, **scored(contenders.implicit_als(matrix, seed=seed, **als),
                                            binary, test)}}


def measure(name: str, seed: int, progress=lambda _: None) -> dict:
    started = time.perf_counter()
    weights, item_ids, source = SETS[name]()
    binary_all = binarize(weights)
    train, test = holdout_split(binary_all, seed=seed)
    plays = training_weights(weights, train)
    choice = choose(train, item_ids, "auto", K, seed, progress=progress)
    verdict = validate_weights(plays, item_ids, choice.algorithm, choice.params, K, seed,
                               progress)
    tried = verdict.get("tried") or [{"alpha": 1.0}]
    alpha = verdict.get("alpha") or max(tried, key=lambda row: row.get("ndcg", 0))["alpha"]
    weighted = confident(plays, alpha)
    rows = {}
    for label, matrix in (("binary", train), ("weighted", weighted)):
        progress(f"{name}: {label} contenders ...")
        model = fit(choice.algorithm, matrix, item_ids, choice.params)
        rows[label] = {"bento-auto": {"params": {"algorithm": choice.algorithm,
                                                 **choice.params}, **scored(model, train, test)},
                       **rivals(matrix, train, test, seed)}
    return {"name": name, "source": source, "users": int(train.shape[0]),
            "items": int(train.shape[1]), "interactions": int(binary_all.nnz),
            "weights": {"min": float(weights.data.min()), "median": float(np.median(
                weights.data)), "max": float(weights.data.max())},
            "alpha": alpha, "verdict": verdict, "rows": rows,
            "wall_seconds": round(time.perf_counter() - started, 1)}


LABELS = {"bento-auto": "bento auto (default)", "ease-ref": "reference EASE", "als": "implicit ALS"}


def section(results: list[dict]) -> list[str]:
    """The page section (Markdown lines): per set, the verdict and a binary/weighted table."""
    lines = [HEADING, "", TEXT, ""]
    for result in results:
        verdict = result["verdict"]
        said = f"on (alpha {verdict['alpha']})" if verdict["used"] else \
            f"off ({verdict['reason']})"
        weights = result["weights"]
        lines += [f"### {result['name']}", "",
                  f"{result['source']}: {result['users']} users, {result['items']} items, "
                  f"{result['interactions']} interactions, weights {weights['min']:g} to "
                  f"{weights['max']:g} (median {weights['median']:g}). The trainer's verdict, "
                  f"on the training part only: **{said}**. Weighted rows use alpha "
                  f"{result['alpha']}. {result['wall_seconds']:.0f} s wall.", "",
                  "| contender | binary Recall@10 | weighted Recall@10 | binary NDCG@10 | "
                  "weighted NDCG@10 | weighted / binary NDCG |", "|---|---:|---:|---:|---:|---:|"]
        for contender, label in LABELS.items():
            binary, weighted = result["rows"]["binary"][contender], \
                result["rows"]["weighted"][contender]
            lines.append(f"| {label} | {binary['recall']:.4f} | {weighted['recall']:.4f} | "
                         f"{binary['ndcg']:.4f} | {weighted['ndcg']:.4f} | "
                         f"{weighted['ndcg'] / max(binary['ndcg'], 1e-12):.3f}x |")
        lines += ["", "The trainer's check (validation folds of the training part, NDCG@10 "
                  f"mean): presence {verdict.get('without', {}).get('ndcg', 0):.4f}; " + ", ".join(
                      f"alpha {row['alpha']} {row['ndcg']:.4f}" for row in verdict.get(
                          "tried", [])) + ".", ""]
    return lines


TEXT = """`python -m bench.weights` (run by `make quality`). The trainer reads the `weight` column
(plays, a rating, a quantity) and checks, on its training part only, whether fitting the chosen
model on the confidence `1 + alpha log(1 + w)` (scaled to mean 1; alpha 0.5, 2, 8) instead of
presence gains 2% NDCG@10 on two validation folds and is ahead on each (`bento.playcounts`);
the verdict and its figures are in the model's metadata `signals.weights` and `/model_info`.
Every family takes it the same way: EASE, item-kNN and RP3beta sum it into their Gram
X' C X, iALS takes it as each positive's confidence, a blend both. The tables fit the default's
chosen settings and tuned EASE and ALS once on presence and once on the same confidence, and
score them on the same binary test split. Supermarket baskets: `supermarket.arff` holds only
which departments a basket touched (t or missing), no quantities, so it has no weights."""


def write_section(lines: list[str], page: Path = OUT_MD) -> None:
    """Replace (or append) this section of `page`, up to the next `## ` heading."""
    text = page.read_text(encoding="utf-8") if page.is_file() else ""
    block = "\n".join(lines).rstrip("\n") + "\n"
    if HEADING in text:
        start = text.index(HEADING)
        after = text.find("\n## ", start + len(HEADING))
        text = text[:start] + block + ("" if after < 0 else text[after:])
    else:
        text = text.rstrip("\n") + "\n\n" + block
    page.write_text(text, encoding="utf-8")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--sets", default=",".join(SETS))
    parser.add_argument("--json", type=Path, help="write the figures as JSON here")
    parser.add_argument("--write", action="store_true",
                        help=f"write its section of {OUT_MD.relative_to(ROOT)}")
    args = parser.parse_args(argv)
    results = [measure(name, args.seed, lambda line: print(line, file=sys.stderr, flush=True))
               for name in args.sets.split(",")]
    print("\n".join(section(results)))
    if args.json:
        args.json.write_text(json.dumps({"sets": results, "wall_seconds": sum(
            result["wall_seconds"] for result in results)}, indent=1))
    if args.write:
        write_section(section(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
