"""The Spark engine: the listener-summed Gram statistics computed by Apache Spark.

    python -m bento.train --data DIR --engine spark      (SPARK_MASTER, default local[2])

Under spark-submit (the SparkApplication in k8s/components/spark-retrain) the master and
resources come from spark-submit; SPARK_SCRATCH_DIR must then be a volume the driver and the
executors share.

Listeners are hashed into partitions; each partition's Gram is `stats.partition_gram` (the same
function the local engine runs on the whole matrix, fed Arrow batches by `mapInArrow`), and
Spark SQL sums the sparse entries by (item, item). Only the summed Gram (items x items,
sparse) comes back to the driver, where the same fitting, evaluation and saving code as
`--engine local` runs.

The interactions reach Spark as Parquet (`user`, `item` integer index columns) that the
driver writes with pyarrow (`write_parquet`), once per matrix.
"""
from __future__ import annotations

import os
import shutil
import sys
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
        # Workers run this interpreter (its numpy, scipy, pyarrow), not whatever python3 is.
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
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


def gram_entries(batches, n_items: int, user_exponent: float):
    """One partition's (user, item) Arrow batches -> its Gram's entries as one (i, j, value)
    batch. The partition holds whole listeners (repartitioned by user)."""
    import pyarrow as pa

    batches = [batch for batch in batches if batch.num_rows]
    if not batches:
        return
    table = pa.Table.from_batches(batches)
    users, items = table.column("user").to_numpy(), table.column("item").to_numpy()
    _, local_users = np.unique(users, return_inverse=True)
    block = sp.csr_matrix((np.ones(users.size, np.float32), (local_users, items)),
                          shape=(int(local_users.max()) + 1, n_items))
    gram = partition_gram(block, user_exponent)
    yield pa.RecordBatch.from_arrays(
        [pa.array(gram.row.astype(np.int32)), pa.array(gram.col.astype(np.int32)),
         pa.array(gram.data.astype(np.float64))], names=["i", "j", "value"])


def gram_from_frame(frame, n_items: int, user_exponent: float) -> sp.csr_matrix:
    """Sum the per-partition Grams of a (user, item) DataFrame: Arrow batches into
    `partition_gram` on the executors, the entries summed by Spark SQL, the sum back as Arrow."""
    from pyspark.sql import functions as F

    entries = (frame.select("user", "item").repartition(PARTITIONS, "user")
               .mapInArrow(lambda batches: gram_entries(batches, n_items, user_exponent),
                           "i int, j int, value double")
               .groupBy("i", "j").agg(F.sum("value").alias("value")))
    table = entries.toArrow()
    return sp.csr_matrix((table.column("value").to_numpy().astype(np.float32),
                          (table.column("i").to_numpy(), table.column("j").to_numpy())),
                         shape=(n_items, n_items))


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
