"""The Spark path next to the single-machine path, on the same data in the same run.

    python -m bench.spark [--users 20000] [--playlists 2000] [--mean-per-user 10]
                          [--algorithm itemknn]

1. The listener-summed Gram alone (stats.gram), local engine vs Spark engine (local[2]; the
   JVM's start timed apart), and whether they are equal; then itemknn's pruned rows (the Spark
   engine prunes beside each block of summed rows), and how many entries reach the driver.
2. The whole trainer (`python -m bento.train --engine local|spark --no-eval`, no time budget:
   each engine tries every setting), wall time and
   the peak RSS of the largest process (GNU time), and whether the saved weights are equal:
   local on the CSV data dir, spark on the same CSVs (loaded on the driver), and spark on the
   same data as a Parquet snapshot (read, checked and indexed by Spark).

On a 2-core machine Spark local mode is slower: the point is that it runs and matches; the
single-machine ceiling and the switch point are in docs/SPARK.md.
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from functools import partial
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parent.parent
# Every engine tries every setting: with the trainer's time budget a slower engine would try
# fewer, choose other settings and save other weights.
NO_TIME_LIMIT = 10**7


def timed(action):
    started = time.perf_counter()
    result = action()
    return result, time.perf_counter() - started


def parquet_snapshot(data: Path, out: Path) -> Path:
    """The data dir with its interactions as Parquet, as `gateway.export --likes parquet`
    writes them (typed columns; the catalogue stays CSV)."""
    import shutil

    import pyarrow as pa
    import pyarrow.csv as pv
    import pyarrow.parquet as pq

    out.mkdir()
    for name in ("playlists.csv", "users.csv"):
        shutil.copy(data / name, out / name)
    types = {"user_id": pa.string(), "playlist_id": pa.string(), "weight": pa.float64(),
             "timestamp": pa.float64()}
    table = pv.read_csv(data / "interactions.csv",
                        convert_options=pv.ConvertOptions(column_types=types))
    pq.write_table(table, out / "interactions.parquet")
    return out


def trainer_run(data: Path, engine: str, algorithm: str, home: Path) -> tuple[Path, float, int]:
    """(saved model dir, seconds, peak RSS in MiB of the run's process tree)."""
    env = {"BENTOML_HOME": str(home), "PATH": "/usr/bin:/bin"}
    rss_file = home.with_suffix(".rss")
    result, seconds = timed(lambda: subprocess.run(
        ["/usr/bin/time", "-f", "%M", "-o", str(rss_file),
         sys.executable, "-m", "bento.train", "--data", str(data), "--engine", engine,
         "--algorithm", algorithm, "--no-eval", "--model-name", "bench_spark",
         "--time-budget", str(NO_TIME_LIMIT)],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True))
    if result.returncode != 0:
        sys.exit(f"bento.train --engine {engine} failed:\n{result.stderr[-3000:]}")
    name, version = result.stdout.strip().splitlines()[-1].split(":")
    peak_kib = int(rss_file.read_text().split()[-1])  # GNU time: the largest process's RSS
    return home / "models" / name / version, seconds, peak_kib // 1024


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=20000)
    parser.add_argument("--playlists", type=int, default=2000)
    parser.add_argument("--mean-per-user", type=float, default=10.0)
    parser.add_argument("--algorithm", default="itemknn", choices=["itemknn", "ease", "rp3beta"])
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-spark-") as scratch:
        return compare(args, Path(scratch))


def compare(args: argparse.Namespace, work: Path) -> int:
    from bento.recsys import stats
    from bento.recsys.algorithms import itemknn_rows
    from bento.recsys.gram import gram_rows, item_popularity
    from bento.recsys.dataio import load_dataset
    from bento.recsys.matrix import binarize, build_matrix
    from bento.recsys.model import ItemItemModel
    from bento.spark import Spark

    data = work / "data"
    subprocess.run([sys.executable, "-m", "bento.datagen", "--out", str(data), "--users",
                    str(args.users), "--playlists", str(args.playlists), "--mean-per-user",
                    str(args.mean_per_user)], cwd=REPO_ROOT, check=True, capture_output=True)
    user_items = binarize(build_matrix(load_dataset(data)).user_items)
    print(f"data: {user_items.nnz:,} interactions, {user_items.shape[0]:,} listeners, "
          f"{user_items.shape[1]:,} playlists")

    local, local_s = timed(lambda: stats.gram(user_items, 0.0))
    rows = partial(itemknn_rows, popularity=item_popularity(user_items), neighbours=100,
                   shrink=0.0)
    pruned, local_rows_s = timed(lambda: gram_rows(user_items, 0.0, rows))
    engine, start_s = timed(Spark)
    try:
        with stats.summed_by(engine):
            summed, spark_s = timed(lambda: stats.gram(user_items, 0.0))
            spark_pruned, spark_rows_s = timed(lambda: gram_rows(user_items, 0.0, rows))
    finally:
        engine.close()
    equal = np.allclose(summed.toarray(), local.toarray(), rtol=1e-5)
    equal_pruned = np.allclose(spark_pruned.toarray(), pruned.toarray(), rtol=1e-4, atol=1e-6)
    print(f"\nGram ({local.nnz:,} entries)   local {local_s:8.2f} s   spark {spark_s:8.2f} s "
          f"(+ {start_s:.1f} s JVM start)   equal: {equal}")
    print(f"itemknn rows, 100 kept ({pruned.nnz:,} entries)   local {local_rows_s:8.2f} s   "
          f"spark {spark_rows_s:8.2f} s (summed Gram cached; {engine.collected:,} entries to "
          f"the driver)   equal: {equal_pruned}")

    snapshot = parquet_snapshot(data, work / "parquet")
    runs = {}
    for label, engine_name, source in (("local", "local", data), ("spark", "spark", data),
                                       ("spark, Parquet", "spark", snapshot)):
        runs[label] = trainer_run(source, engine_name, args.algorithm,
                                  work / f"home-{len(runs)}")
    models = {name: ItemItemModel.load(path)[0] for name, (path, _, _) in runs.items()}
    weights = {name: m.weights.toarray() if hasattr(m.weights, "toarray") else m.weights
               for name, m in models.items()}
    same = all(np.allclose(weights[name], weights["local"], rtol=1e-4, atol=1e-6)
               for name in weights)
    print(f"\nwhole trainer (--algorithm {args.algorithm} --no-eval, every setting tried)")
    print(f"{'engine, input':<16}{'seconds':>10}{'peak RSS MiB':>15}  (largest process)")
    for name, (_, seconds, peak) in runs.items():
        print(f"{name:<16}{seconds:>10.1f}{peak:>15}")
    print(f"same weights: {same}")
    return 0 if equal and equal_pruned and same else 1


if __name__ == "__main__":
    sys.exit(main())
