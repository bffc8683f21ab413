"""Cold-start playlists on citeulike-a: Recall@10 over items whose every interaction was hidden
in training, for popularity, item-kNN, content only (TF-IDF over tags) and the blend.

    python -m bench.cold_start [--data ../shared/datasets/citeulike-a] [--out docs/COLD_START.md]

A random 10% of the articles lose all their interactions in training; each user with at least
one of them and one other article is scored on the rest of their library and judged on how many
of the hidden articles make their top 10 (Recall@10 = hits / min(10, hidden)). Articles only
carry tags in this data set (no names or descriptions), so content here is the tags.
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from bento.content import blend, content_similarity
from bento.recsys.algorithms import fit_itemknn, item_popularity
from bento.recsys.evaluation import holdout_split

DEFAULT_DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "datasets" / "citeulike-a"


def read_lists(path: Path) -> list[list[int]]:
    return [[int(x) for x in line.split()[1:]] for line in path.read_text().splitlines()]


def load(data: Path) -> tuple[sp.csr_matrix, list[str]]:
    users = read_lists(data / "users.dat")
    item_tags = read_lists(data / "item-tag.dat")
    rows = np.repeat(np.arange(len(users)), [len(u) for u in users])
    cols = np.fromiter((i for u in users for i in u), dtype=np.int64)
    matrix = sp.csr_matrix((np.ones(cols.size, np.float32), (rows, cols)),
                           shape=(len(users), len(item_tags)))
    texts = [" ".join(f"t{t}" for t in tags) for tags in item_tags]
    return matrix, texts


def recall_at_k(weights, popularity, train, test, users, k=10, batch=500) -> float:
    recalls = []
    for start in range(0, users.size, batch):
        chunk = users[start:start + batch]
        history = train[chunk]
        scores = np.asarray((history @ weights).todense()) if weights is not None \
            else np.zeros((chunk.size, train.shape[1]), np.float32)
        scores = scores + 1e-6 * popularity / (popularity.max() or 1)
        scores[history.nonzero()] = -np.inf
        top = np.argpartition(-scores, k, axis=1)[:, :k]
        truth = test[chunk]
        for row, picks in enumerate(top):
            hidden = truth.indices[truth.indptr[row]:truth.indptr[row + 1]]
            recalls.append(np.isin(picks, hidden).sum() / min(k, hidden.size))
    return float(np.mean(recalls))


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--shrink", type=float, default=10.0)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    matrix, texts = load(args.data)
    rng = np.random.default_rng(args.seed)
    cold = rng.choice(matrix.shape[1], matrix.shape[1] // 10, replace=False)
    is_cold = np.zeros(matrix.shape[1], bool)
    is_cold[cold] = True
    train = sp.csr_matrix(matrix @ sp.diags((~is_cold).astype(np.float32)))
    train.eliminate_zeros()
    test = sp.csr_matrix(matrix @ sp.diags(is_cold.astype(np.float32)))
    test.eliminate_zeros()
    users = np.flatnonzero((np.diff(test.indptr) > 0) & (np.diff(train.indptr) > 0))
    popularity = item_popularity(train)
    item_ids = [str(i) for i in range(matrix.shape[1])]
    knn = fit_itemknn(train, item_ids, neighbours=100).weights
    content = content_similarity(texts, neighbours=100)
    mixed = blend(knn, content, popularity, args.shrink)
    rows = {"popularity": recall_at_k(None, popularity, train, test, users),
            "itemknn (collaborative only)": recall_at_k(knn, popularity, train, test, users),
            "content only (TF-IDF over tags)": recall_at_k(content, popularity, train, test,
                                                           users),
            f"blend (shrink {args.shrink:g})": recall_at_k(mixed, popularity, train, test, users)}
    # What the blend costs where feedback exists: a 20% per-user holdout of the warm articles.
    warm_train, warm_test = holdout_split(train, 0.2, args.seed)
    warm_users = np.flatnonzero(np.diff(warm_test.indptr) > 0)
    warm_popularity = item_popularity(warm_train)
    warm_knn = fit_itemknn(warm_train, item_ids, neighbours=100).weights
    warm = {"itemknn (collaborative only)": recall_at_k(warm_knn, warm_popularity, warm_train,
                                                        warm_test, warm_users),
            f"blend (shrink {args.shrink:g})": recall_at_k(
                blend(warm_knn, content, warm_popularity, args.shrink), warm_popularity,
                warm_train, warm_test, warm_users)}
    lines = [f"Recall@10 over the hidden 10% of articles ({cold.size} articles, {users.size} "
             f"users with some of them; seed {args.seed}; {time.perf_counter() - started:.0f} s)",
             "", "| model | Recall@10 (cold items) |", "|---|---|"]
    lines += [f"| {name} | {value:.4f} |" for name, value in rows.items()]
    lines += ["", f"Recall@10 on a 20% per-user holdout of the other articles ({warm_users.size} "
              "users): what the blend costs where feedback exists", "",
              "| model | Recall@10 (warm items) |", "|---|---|"]
    lines += [f"| {name} | {value:.4f} |" for name, value in warm.items()]
    print("\n".join(lines))
    if args.out:
        args.out.write_text("# Cold-start playlists (issue 16)\n\n" + __doc__.split("\n\n")[2]
                            + "\n\nProduced by `python -m bench.cold_start --out "
                            "docs/COLD_START.md`.\n\n" + "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
