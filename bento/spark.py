"""The Spark engine: the listener-summed Gram statistics computed by Apache Spark.

    python -m bento.train --data DIR --engine spark      (SPARK_MASTER, default local[2])

Under spark-submit (the SparkApplication in k8s/components/spark-retrain) the master and
resources come from spark-submit; SPARK_SCRATCH_DIR must then be a volume the driver and the
executors share.

Listeners are hashed into partitions; each partition's Gram is `stats.partition_gram` (the same
function the local engine runs on the whole matrix), and the sparse blocks are summed by item
row with `reduceByKey`. Only the summed Gram (items x items, sparse) comes back to the driver,
where the same fitting, evaluation and saving code as `--engine local` runs.

The interactions reach Spark as Parquet (`user`, `item` integer index columns) that the
driver writes with pyarrow (`write_parquet`), once per matrix.
"""
from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from bento.recsys.stats import partition_gram

PARTITIONS = int(os.environ.get("SPARK_PARTITIONS", "8"))


def session(master: str | None = None):
    """A Spark session bound to loopback, without the web UI (local mode by default)."""
    from pyspark.sql import SparkSession

    builder = (SparkSession.builder.appName("playlist-recommender-train")
               .config("spark.ui.enabled", "false")
               .config("spark.sql.shuffle.partitions", str(PARTITIONS)))
    if "PYSPARK_GATEWAY_PORT" in os.environ and not master:
        return builder.getOrCreate()  # under spark-submit (k8s/components/spark-retrain)
    master = master or os.environ.get("SPARK_MASTER", "local[2]")
    builder = builder.master(master).config("spark.driver.memory",
                                            os.environ.get("SPARK_DRIVER_MEMORY", "2g"))
    if master.startswith("local"):
        builder = (builder.config("spark.driver.host", "127.0.0.1")
                   .config("spark.driver.bindAddress", "127.0.0.1"))
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def write_parquet(user_items: sp.csr_matrix, path: Path) -> Path:
    """The (user, item) index pairs of a matrix as one Parquet file (pyarrow)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    coo = user_items.tocoo()
    table = pa.table({"user": coo.row.astype(np.int64), "item": coo.col.astype(np.int32)})
    pq.write_table(table, path)
    return path


def block_rows(pairs, n_items: int, user_exponent: float):
    """One partition of (user, item) rows -> its Gram's nonempty rows as (i, (cols, values))."""
    pairs = list(pairs)
    if not pairs:
        return
    users = np.fromiter((p[0] for p in pairs), np.int64, len(pairs))
    items = np.fromiter((p[1] for p in pairs), np.int64, len(pairs))
    _, local_users = np.unique(users, return_inverse=True)
    block = sp.csr_matrix((np.ones(len(pairs), np.float32), (local_users, items)),
                          shape=(local_users.max() + 1, n_items))
    block.sum_duplicates()
    gram = partition_gram(block, user_exponent).tocsr()
    for i in np.flatnonzero(np.diff(gram.indptr)):
        start, end = gram.indptr[i], gram.indptr[i + 1]
        yield int(i), (gram.indices[start:end].copy(), gram.data[start:end].copy())


def add_rows(left, right):
    """Sum two sparse rows given as (columns, values)."""
    cols = np.concatenate([left[0], right[0]])
    values = np.concatenate([left[1], right[1]])
    unique, inverse = np.unique(cols, return_inverse=True)
    return unique, np.bincount(inverse, weights=values, minlength=unique.size).astype(np.float32)


def gram_from_frame(frame, n_items: int, user_exponent: float) -> sp.csr_matrix:
    """Sum the per-partition Grams of a (user, item) DataFrame, partitioned by user."""
    rows = (frame.select("user", "item").repartition(PARTITIONS, "user").rdd
            .mapPartitions(lambda pairs: block_rows(pairs, n_items, user_exponent))
            .reduceByKey(add_rows)
            .collect())
    indptr = np.zeros(n_items + 1, np.int64)
    rows.sort(key=lambda row: row[0])
    for i, (cols, _) in rows:
        indptr[i + 1] = cols.size
    indptr = np.cumsum(indptr)
    cols = np.concatenate([r[1][0] for r in rows]) if rows else np.zeros(0, np.int32)
    data = np.concatenate([r[1][1] for r in rows]) if rows else np.zeros(0, np.float32)
    return sp.csr_matrix((data.astype(np.float32), cols, indptr), shape=(n_items, n_items))


class Spark:
    """stats.Engine whose Grams are summed by Spark; the matrix travels as Parquet."""

    name = "spark"

    def __init__(self, spark=None):
        self.spark = spark or session()
        # Executors read the Parquet the driver writes: on a cluster, a volume both mount.
        self.scratch = Path(tempfile.mkdtemp(prefix="spark-gram-",
                                             dir=os.environ.get("SPARK_SCRATCH_DIR")))
        self.written: dict[int, tuple[sp.csr_matrix, Path]] = {}

    def gram(self, user_items: sp.csr_matrix, user_exponent: float) -> sp.csr_matrix:
        key = id(user_items)  # the matrix is kept with its file, so ids are never reused
        if key not in self.written or self.written[key][0] is not user_items:
            path = self.scratch / f"m{len(self.written)}.parquet"
            self.written[key] = (user_items, write_parquet(user_items, path))
        frame = self.spark.read.parquet(str(self.written[key][1]))
        return gram_from_frame(frame, user_items.shape[1], user_exponent)

    def close(self) -> None:
        shutil.rmtree(self.scratch, ignore_errors=True)
        self.spark.stop()
