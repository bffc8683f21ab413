"""Write users, playlists and likes in the core data format: one consistent, streamed snapshot.

    python -m gateway.export --out DIR [--database-url URL] [--likes csv|parquet]
    # then: python -m bento.train --data DIR [--engine spark]

The likes go to interactions.csv, or to interactions.parquet (columns user_id, playlist_id,
weight, timestamp: what `--engine spark` reads; pyarrow, batch by batch), or to whatever a
`likes` writer does with the snapshot's likes query (bento.spark_snapshot: Spark's executors
over JDBC, inside this very snapshot). Users and playlists are always CSV: catalogue-sized.

The retrain job (`python -m bento.retrain`) calls `snapshot` too, so there is one exporter.
On PostgreSQL the reads share one REPEATABLE READ, READ ONLY transaction (every file sees the same
moment while listeners keep liking) and rows come through server-side cursors in batches, so
memory stays bounded by the catalogue, not by the number of likes. Only sqlalchemy and this
package's `tables` are imported at module level: the Bento image runs it without the gateway app.
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from collections import defaultdict
from contextlib import contextmanager
from itertools import islice
from pathlib import Path
from typing import Callable

from sqlalchemy import Connection, Engine, select

from datarules import INTERACTIONS, PARQUET_INTERACTIONS, Playlist, write_dataset
from gateway.tables import likes, playlist_tags, playlists, users

BATCH_ROWS = 10_000
LIKES_FORMATS = ("csv", "parquet")
# (connection inside the snapshot, the likes query, where to write) -> likes written
LikesWriter = Callable[[Connection, object, Path], int]


@contextmanager
def snapshot_connection(engine: Engine):
    """A connection whose reads all see one moment of the database, and may not write."""
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            conn.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
        with conn.begin():
            if engine.dialect.name == "sqlite":
                # pysqlite only begins before writes; this read transaction pins one snapshot.
                conn.exec_driver_sql("BEGIN")
            yield conn


def active_playlists():
    """Playlists that may be trained on: all, or those not retired once the column exists."""
    retired_at = playlists.c.get("retired_at")
    return [] if retired_at is None else [retired_at.is_(None)]


def stream(conn: Connection, query):
    """Rows of `query` through a server-side cursor, `BATCH_ROWS` at a time."""
    yield from conn.execution_options(yield_per=BATCH_ROWS).execute(query)


def parquet_schema():
    import pyarrow as pa

    return pa.schema([("user_id", pa.string()), ("playlist_id", pa.string()),
                      ("weight", pa.float64()), ("timestamp", pa.float64())])


def write_parquet_atomic(path: Path, rows) -> int:
    """(user_id, playlist_id, weight, timestamp) rows as one Parquet file, BATCH_ROWS per row
    group, through a temporary file renamed into place; returns the number of rows."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema, written = parquet_schema(), 0
    handle, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    os.close(handle)
    try:
        with pq.ParquetWriter(tmp_name, schema) as writer:
            rows = iter(rows)
            while batch := list(islice(rows, BATCH_ROWS)):
                writer.write_batch(pa.RecordBatch.from_arrays(
                    [pa.array(column, field.type) for column, field in zip(zip(*batch), schema)],
                    schema=schema))
                written += len(batch)
        os.chmod(tmp_name, 0o644)
        os.replace(tmp_name, path)
    except BaseException:
        os.unlink(tmp_name)
        raise
    return written


def remove(path: Path) -> None:
    """A likes file or (Spark's output) folder of an earlier snapshot in the same place."""
    if path.is_dir():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)


def snapshot(engine: Engine, out_dir: Path, likes_to: str | LikesWriter = "csv",
             ) -> dict[str, int]:
    """Write users.csv, playlists.csv and the likes (`likes_to`: "csv", "parquet" or a
    LikesWriter) from one consistent read."""
    if not (likes_to in LIKES_FORMATS or callable(likes_to)):
        raise ValueError(f"likes_to must be one of {LIKES_FORMATS} or a writer")
    counts = defaultdict(int)

    def counted(name, rows):
        for row in rows:
            counts[name] += 1
            yield row

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    where = active_playlists()
    with snapshot_connection(engine) as conn:
        tags = defaultdict(list)  # catalogue-sized, not likes-sized
        for playlist_id, tag in stream(conn, select(playlist_tags.c.playlist_id,
                                                    playlist_tags.c.tag)
                                       .order_by(playlist_tags.c.playlist_id,
                                                 playlist_tags.c.position)):
            tags[playlist_id].append(tag)
        user_rows = (tuple(row) for row in stream(
            conn, select(users.c.id, users.c.name).order_by(users.c.id)))
        catalogue = (Playlist(row.id, row.name, row.description, tags.get(row.id, []), row.tracks)
                     for row in stream(conn, select(playlists.c.id, playlists.c.name,
                                                    playlists.c.description, playlists.c.tracks)
                                       .where(*where).order_by(playlists.c.id)))
        like_query = (select(likes.c.user_id, likes.c.playlist_id, likes.c.weight,
                             likes.c.liked_at)
                      .order_by(likes.c.user_id, likes.c.playlist_id))
        if where:
            like_query = like_query.join(playlists, playlists.c.id == likes.c.playlist_id) \
                .where(*where)
        like_rows = counted("interactions", (tuple(row) for row in stream(conn, like_query)))
        if likes_to == "csv":
            remove(out_dir / PARQUET_INTERACTIONS)
            write_dataset(out_dir, counted("users", user_rows), counted("playlists", catalogue),
                          like_rows)
            return dict(counts)
        # The catalogue through the one CSV writer, the likes beside it in their own format.
        write_dataset(out_dir, counted("users", user_rows), counted("playlists", catalogue), ())
        parquet = out_dir / PARQUET_INTERACTIONS
        remove(out_dir / INTERACTIONS)  # header only: the likes go to Parquet
        remove(parquet)
        if likes_to == "parquet":
            write_parquet_atomic(parquet, like_rows)
        else:
            counts["interactions"] = likes_to(conn, like_query, parquet)
    return dict(counts)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m gateway.export", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, required=True, help="directory to write CSVs to")
    parser.add_argument("--database-url", help="default: DATABASE_URL or the gateway default")
    parser.add_argument("--likes", choices=LIKES_FORMATS, default="csv",
                        help="interactions.csv, or interactions.parquet for --engine spark")
    args = parser.parse_args(argv)
    from gateway.settings import Settings
    from gateway.store import make_engine

    settings = Settings(**({"database_url": args.database_url} if args.database_url else {}))
    engine = make_engine(settings.sqlalchemy_url)
    try:
        counts = snapshot(engine, args.out, args.likes)
    finally:
        engine.dispose()
    print(f"wrote {counts.get('interactions', 0)} interactions, {counts.get('users', 0)} users, "
          f"{counts.get('playlists', 0)} playlists to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
