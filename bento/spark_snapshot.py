"""The training snapshot read by Spark: a Parquet snapshot, and the likes over JDBC.

    python -m gateway.export --out DIR --likes parquet
    python -m bento.train --data DIR --engine spark
    python -m bento.retrain --engine spark --snapshot jdbc     (PostgreSQL)

`read_snapshot` reads DIR/interactions.parquet (a file, or a folder of part files) on the
executors: every row checked by the rules of `datarules` (ids, weights, timestamps, playlists
the catalogue knows; the first bad row is a `DataError` naming file and row), duplicates of a
(user, playlist) pair merged as the CSV loader merges them (weights summed, latest timestamp),
ids turned into indices (users in id order, items in catalogue order); only the integer columns
reach the driver, where `matrix.from_pairs` builds the same InteractionMatrix the CSV path
builds. The catalogue (playlists.csv, users.csv) is catalogue-sized and loaded by datarules.

`jdbc_likes` is a likes writer for `gateway.export.snapshot`: inside the exporter's REPEATABLE
READ, READ ONLY transaction it exports the snapshot (pg_export_snapshot), and Spark's executors
read the exporter's likes query in user_id ranges over JDBC, each connection importing that
snapshot, and write interactions.parquet; then `read_snapshot` reads it like any other.
"""
from __future__ import annotations

from functools import partial
from pathlib import Path


from bento.recsys.dataio import (PARQUET_INTERACTIONS, PLAYLISTS, USERS, DataError, Playlist,
                                 load_playlists, load_users)
from bento.recsys.matrix import InteractionMatrix, from_pairs
from datarules.rules import id_problem

PROBLEMS = "file string, row long, reason string"
JDBC_DRIVER = "org.postgresql.Driver"
JDBC_FETCH_ROWS = 10_000


def row_problems(batches, known: frozenset | None):
    """Every bad row of some Arrow batches of the snapshot, as (file, row, reason): the rules
    `datarules` applies to interactions.csv, on typed columns (values are taken as stored)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    for batch in batches:
        files, rows = batch.column("file"), batch.column("row")
        problems: list[tuple[int, str]] = []
        for column in ("user_id", "playlist_id"):
            values = batch.column(column)
            for value in pc.unique(values).to_pylist():
                problem = id_problem(value or "")
                if problem == "must not be empty":
                    reason = f"empty {column}"
                elif problem:
                    reason = f"{column} {problem}: {value[:40]!r}"
                elif column == "playlist_id" and known is not None and value not in known:
                    reason = f"playlist_id {value!r} is not in {PLAYLISTS}"
                else:
                    continue
                mask = pc.is_null(values) if value is None else pc.equal(values, value)
                problems.append((pc.index(mask, True).as_py(), reason))
        weight, stamp = batch.column("weight"), batch.column("timestamp")
        for bad, reason in (
                (pc.invert(pc.and_(pc.is_finite(weight), pc.greater(weight, 0.0))),
                 "weight {} must be a positive number"),
                (pc.invert(pc.is_finite(stamp)), "timestamp {} is not finite")):
            bad = pc.fill_null(bad, False)
            if pc.any(bad).as_py():
                first = pc.index(bad, True).as_py()
                value = (weight if "weight" in reason else stamp)[first].as_py()
                problems.append((first, reason.format(value)))
        if problems:
            first, reason = min(problems)
            yield pa.RecordBatch.from_pydict({"file": [files[first].as_py()],
                                              "row": [rows[first].as_py()], "reason": [reason]})


def parquet_frame(spark, path: Path):
    """The snapshot's rows with their file and 0-based row, weight and timestamp as doubles."""
    from py4j.protocol import Py4JJavaError
    from pyspark.errors import PySparkException
    from pyspark.sql import functions as F
    from pyspark.sql.types import NumericType, StringType

    try:
        raw = spark.read.parquet(str(path))
        fields = {field.name: field.dataType for field in raw.schema.fields}
    except (PySparkException, Py4JJavaError) as err:
        reason = str(err.java_exception.getMessage() if isinstance(err, Py4JJavaError) else err)
        raise DataError(path, None, "not a readable Parquet snapshot: "
                                    f"{reason.strip().splitlines()[0][:300]}") from None
    missing = [name for name in ("user_id", "playlist_id") if name not in fields]
    if missing:
        raise DataError(path, None, f"missing required column(s): {', '.join(missing)}")
    columns = [F.col("_metadata.file_name").alias("file"),
               F.col("_metadata.row_index").alias("row")]
    for name in ("user_id", "playlist_id"):
        if not isinstance(fields[name], StringType):
            raise DataError(path, None, f"column {name} must hold strings, not {fields[name]}")
        columns.append(F.col(name))
    for name in ("weight", "timestamp"):
        if name in fields and not isinstance(fields[name], NumericType):
            raise DataError(path, None, f"column {name} must be a number, not {fields[name]}")
        columns.append((F.col(name) if name in fields else F.lit(None)).cast("double").alias(name))
    return raw.select(*columns)


def indexed(frame, order, name: str):
    """`frame` with a 0-based column `name` numbering its rows by `order`."""
    from pyspark.sql import Window, functions as F

    return frame.withColumn(name, F.row_number().over(Window.orderBy(order)) - 1)


Snapshot = tuple[InteractionMatrix, dict[str, Playlist], list[str]]


def read_snapshot(spark, data_dir: Path) -> Snapshot:
    """(matrix, playlists, warnings) of a Parquet snapshot; DataError for the first bad row."""
    from pyspark.sql import functions as F

    data_dir, warnings = Path(data_dir), []
    path = data_dir / PARQUET_INTERACTIONS
    catalogue = load_playlists(data_dir / PLAYLISTS, warnings) \
        if (data_dir / PLAYLISTS).is_file() else None
    if (data_dir / USERS).is_file():
        load_users(data_dir / USERS, warnings)  # checked as on the CSV path; names unused
    rows = parquet_frame(spark, path).cache()
    cached = [rows]
    try:
        known = None if catalogue is None else frozenset(catalogue)
        problem = (rows.mapInArrow(partial(row_problems, known=known), PROBLEMS)
                   .orderBy("file", "row").limit(1).collect())
        if problem:
            file, row, reason = problem[0]
            where = path / file if path.is_dir() else path
            raise DataError(where, row + 1, reason)
        merged = rows.groupBy("user_id", "playlist_id").agg(
            F.sum(F.coalesce("weight", F.lit(1.0))).alias("weight"),
            F.max("timestamp").alias("timestamp"), F.count(F.lit(1)).alias("rows")).cache()
        cached.append(merged)
        pairs, total = merged.agg(F.count(F.lit(1)), F.sum("rows")).first()
        if not pairs:
            raise DataError(path, None, "no interactions")
        if total > pairs:
            warnings.append(f"{path}: merged {total - pairs} duplicate (user, playlist) rows: "
                            "weights summed, latest timestamp kept")
        users = indexed(merged.select("user_id").distinct(), "user_id", "u").cache()
        cached.append(users)
        user_ids = users.orderBy("u").select("user_id").toArrow().column(0).to_pylist()
        if catalogue is None:  # as the CSV loader: playlists in order of first appearance
            first = rows.groupBy("playlist_id").agg(F.min(F.struct("file", "row")).alias("at"))
            items = indexed(first, "at", "i").select("playlist_id", "i")
            item_ids = items.orderBy("i").select("playlist_id").toArrow().column(0).to_pylist()
            catalogue = {item_id: Playlist(item_id, item_id) for item_id in item_ids}
        else:
            items = spark.createDataFrame(list(enumerate(catalogue)), "i int, playlist_id string")
        table = (merged.join(users, "user_id").join(F.broadcast(items), "playlist_id")
                 .select("u", "i", "weight", "timestamp").toArrow())
    finally:
        for frame in cached:
            frame.unpersist()
    u, i, weight, stamp = (table.column(name).to_numpy(zero_copy_only=False)
                           for name in ("u", "i", "weight", "timestamp"))  # null stamp: NaN
    matrix = from_pairs(u, i, weight, stamp, user_ids, list(catalogue))
    return matrix, catalogue, warnings


def jdbc_url(database_url: str) -> tuple[str, dict[str, str]]:
    """A SQLAlchemy PostgreSQL URL as a JDBC URL and its connection properties (the password
    goes in the properties, never in the URL Spark may log)."""
    from sqlalchemy.engine import make_url

    url = make_url(database_url)
    if not url.drivername.startswith(("postgresql", "postgres")):
        raise ValueError(f"likes over JDBC need PostgreSQL, not {url.drivername}")
    properties = {"driver": JDBC_DRIVER, **{k: str(v) for k, v in url.query.items()}}
    if url.username:
        properties["user"] = url.username
    if url.password:
        properties["password"] = url.password
    return f"jdbc:postgresql://{url.host or 'localhost'}:{url.port or 5432}/{url.database}", \
        properties


def sql_literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def user_ranges(bounds: list[str | None]) -> list[str]:
    """WHERE clauses splitting user_id at `bounds`, in the database's own order."""
    cuts = sorted({bound for bound in bounds if bound is not None})
    if not cuts:
        return ["TRUE"]
    edges = [None, *cuts, None]
    return [" AND ".join(part for part in (
        low is not None and f"user_id >= {sql_literal(low)}",
        high is not None and f"user_id < {sql_literal(high)}") if part)
        for low, high in zip(edges, edges[1:])]


def jdbc_likes(spark, database_url: str, partitions: int):
    """A likes writer for gateway.export.snapshot: Spark reads the likes over JDBC, in
    `partitions` user_id ranges of about equal size, from the exporter's snapshot."""
    from sqlalchemy import bindparam, text
    from sqlalchemy.dialects.postgresql import ARRAY, DOUBLE_PRECISION

    url, properties = jdbc_url(database_url)

    def write(conn, like_query, path: Path) -> int:
        if conn.dialect.name != "postgresql":
            raise ValueError(f"likes over JDBC need PostgreSQL, not {conn.dialect.name}")
        exported = conn.exec_driver_sql("SELECT pg_export_snapshot()").scalar()
        query = str(like_query.compile(dialect=conn.dialect,
                                       compile_kwargs={"literal_binds": True}))
        fractions = [k / partitions for k in range(1, partitions)]
        bounds = conn.execute(text(
            f"SELECT percentile_disc(:fractions) WITHIN GROUP (ORDER BY user_id) "
            f"FROM ({query}) AS snapshot_likes").bindparams(
                bindparam("fractions", fractions, ARRAY(DOUBLE_PRECISION)))).scalar() or []
        session = (f"SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY; "
                   f"SET TRANSACTION SNAPSHOT {sql_literal(exported)}")
        frame = spark.read.jdbc(url, f"({query}) AS snapshot_likes",
                                predicates=user_ranges(list(bounds)),
                                properties={**properties, "sessionInitStatement": session,
                                            "fetchsize": str(JDBC_FETCH_ROWS)})
        frame.selectExpr("user_id", "playlist_id", "weight", "liked_at AS timestamp") \
            .write.parquet(str(path))
        return spark.read.parquet(str(path)).count()

    return write
