"""The Spark engine: the listener-summed Gram statistics computed by Apache Spark.

    python -m bento.train --data DIR --engine spark      (SPARK_MASTER, default local[2])

Under spark-submit (the ScheduledSparkApplication in k8s/components/spark-retrain) the master
and resources come from spark-submit; SPARK_SCRATCH_DIR must then be a volume the driver and the
executors share.

Listeners are hashed into partitions; each partition's Gram is `stats.partition_gram` (the same
function the local engine runs on the whole matrix, fed Arrow batches by `mapInArrow`); the
partial entries are regrouped by row and summed beside their rows, and a per-row-block function
(`stats.gram(..., rows=)`: itemknn's and rp3beta's pruning) runs there too, so only what it
keeps comes back to the driver, where the same fitting, evaluation and saving code as
`--engine local` runs. Without one (EASE) the whole summed Gram comes back.

The interactions reach Spark as Parquet (`user`, `item` integer index columns) that the
driver writes with pyarrow (`write_parquet`), once per matrix; a Parquet or JDBC training
snapshot is read by Spark itself (`bento.spark_snapshot`).
"""
from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from bento.recsys.stats import canonical, partition_gram

PARTITIONS = int(os.environ.get("SPARK_PARTITIONS", "8"))
# PostgreSQL's JDBC driver for `--snapshot jdbc` (Debian: libpostgresql-jdbc-java)
JDBC_JAR = Path(os.environ.get("SPARK_JDBC_JAR", "/usr/share/java/postgresql.jar"))


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
    if JDBC_JAR.is_file():
        builder = builder.config("spark.jars", str(JDBC_JAR))
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


ENTRIES = "i int, j int, value double"


def entries_batch(matrix: sp.spmatrix):
    import pyarrow as pa

    coo = matrix.tocoo()
    return pa.RecordBatch.from_arrays(
        [pa.array(coo.row.astype(np.int32)), pa.array(coo.col.astype(np.int32)),
         pa.array(coo.data.astype(np.float64))], names=["i", "j", "value"])


def entries_matrix(batches, n_items: int) -> sp.csr_matrix | None:
    """(i, j, value) Arrow batches as an items x items matrix, duplicates summed (float64)."""
    import pyarrow as pa

    batches = [batch for batch in batches if batch.num_rows]
    if not batches:
        return None
    table = pa.Table.from_batches(batches)
    return sp.csr_matrix((table.column("value").to_numpy(),
                          (table.column("i").to_numpy(), table.column("j").to_numpy())),
                         shape=(n_items, n_items))


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
    yield entries_batch(partition_gram(block, user_exponent))


def summed_rows(batches, n_items: int, rows=None):
    """One partition of Gram entries holding every partial entry of its rows (repartitioned by
    row) -> the rows' sums, with `rows` (a per-row-block function) applied when given."""
    block = entries_matrix(batches, n_items)
    if block is not None:
        block = canonical(block)
        yield entries_batch(block if rows is None else rows(block))


def summed_gram(frame, n_items: int, user_exponent: float):
    """The summed Gram of a (user, item) DataFrame, as (i, j, value) rows partitioned by i:
    Arrow batches into `partition_gram` on the executors, the partial entries regrouped by row
    (one shuffle) and summed beside their rows."""
    return (frame.select("user", "item").repartition(PARTITIONS, "user")
            .mapInArrow(lambda batches: gram_entries(batches, n_items, user_exponent), ENTRIES)
            .repartition(PARTITIONS, "i")
            .mapInArrow(lambda batches: summed_rows(batches, n_items), ENTRIES))


class Spark:
    """stats.Engine whose Grams are summed by Spark; the matrix travels as Parquet. The summed
    Gram of the current matrix stays cached on the executors (one per user weighting), so a
    settings search prunes it again without summing it again."""

    name = "spark"

    def __init__(self, spark=None):
        self.spark = spark or session()
        # Executors read the Parquet the driver writes: on a cluster, a volume both mount.
        self.scratch = Path(tempfile.mkdtemp(prefix="spark-gram-",
                                             dir=os.environ.get("SPARK_SCRATCH_DIR")))
        self.matrix: sp.csr_matrix | None = None
        self.sums: dict[float, object] = {}
        self.written = 0
        self.collected = 0  # Gram entries the last call brought to the driver

    def summed(self, user_items: sp.csr_matrix, user_exponent: float):
        if user_items is not self.matrix:
            self.drop()
            path = self.scratch / f"m{self.written}.parquet"
            self.written += 1
            write_parquet(user_items, path)
            self.matrix, self.path = user_items, path
        if user_exponent not in self.sums:
            frame = self.spark.read.parquet(str(self.path))
            self.sums[user_exponent] = summed_gram(frame, user_items.shape[1],
                                                   user_exponent).persist()
        return self.sums[user_exponent]

    def gram(self, user_items: sp.csr_matrix, user_exponent: float,
             rows=None) -> sp.csr_matrix:
        n_items = user_items.shape[1]
        entries = self.summed(user_items, user_exponent)
        if rows is not None:  # the cached partitions keep whole rows: a narrow step
            entries = entries.mapInArrow(lambda batches: summed_rows(batches, n_items, rows),
                                         ENTRIES)
        table = entries.toArrow()
        self.collected = table.num_rows
        summed = entries_matrix(table.to_batches(), n_items)
        return sp.csr_matrix((n_items, n_items)) if summed is None else summed

    def drop(self) -> None:
        for frame in self.sums.values():
            frame.unpersist()
        self.sums.clear()
        if self.matrix is not None:
            self.path.unlink(missing_ok=True)
        self.matrix = None

    def close(self) -> None:
        self.drop()
        shutil.rmtree(self.scratch, ignore_errors=True)
        self.spark.stop()
