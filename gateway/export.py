"""Write users, playlists and likes in the core data format: one consistent, streamed snapshot.

    python -m gateway.export --out DIR [--database-url URL]   # then: python -m bento.train ...

The retrain job (`python -m bento.retrain`) calls `snapshot` too, so there is one exporter.
On PostgreSQL the reads share one REPEATABLE READ, READ ONLY transaction (every file sees the same
moment while listeners keep liking) and rows come through server-side cursors in batches, so
memory stays bounded by the catalogue, not by the number of likes. Only sqlalchemy and this
package's `tables` are imported at module level: the Bento image runs it without the gateway app.
"""
from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Connection, Engine, select

from datarules import Playlist, write_dataset
from gateway.tables import likes, playlist_tags, playlists, users

BATCH_ROWS = 10_000


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


def snapshot(engine: Engine, out_dir: Path) -> dict[str, int]:
    """Write users.csv, playlists.csv and interactions.csv from one consistent read."""
    counts = defaultdict(int)

    def counted(name, rows):
        for row in rows:
            counts[name] += 1
            yield row

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
        write_dataset(out_dir, counted("users", user_rows),
                      counted("playlists", catalogue),
                      counted("interactions", (tuple(row) for row in stream(conn, like_query))))
    return dict(counts)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m gateway.export", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, required=True, help="directory to write CSVs to")
    parser.add_argument("--database-url", help="default: DATABASE_URL or the gateway default")
    args = parser.parse_args(argv)
    from gateway.settings import Settings
    from gateway.store import make_engine

    settings = Settings(**({"database_url": args.database_url} if args.database_url else {}))
    engine = make_engine(settings.sqlalchemy_url)
    try:
        counts = snapshot(engine, args.out)
    finally:
        engine.dispose()
    print(f"wrote {counts.get('interactions', 0)} interactions, {counts.get('users', 0)} users, "
          f"{counts.get('playlists', 0)} playlists to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
