"""Load a data directory (users, playlists, likes; README "Data format") into the database.

    python -m gateway.importer DIR [--database-url URL] [--if-empty]

Validated by the shared rules (datarules) before anything is written; then one transaction, so
a failure leaves the database as it was. Re-running is safe: rows are matched by id, so users
and playlists are updated, likes get the file's weight and time, nothing is deleted, and a
retired playlist stays retired. Exit 0 on success, 2 on bad data (file:line: reason), 1 when
the database is not migrated or unreachable. `--if-empty` imports only into a database without
users, playlists and likes (how `make run` and the dev deployments seed the sample once).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sqlalchemy import Engine, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError

from datarules import DataError, Dataset, load_dataset
from gateway.migrations_state import SchemaNotReady, check_schema
from gateway.settings import Settings
from gateway.store import Store, make_engine
from gateway.tables import likes, playlist_tags, playlists, users

BATCH = 5000


def upsert(conn, table, rows: list[dict], keys: list[str], columns: list[str]) -> None:
    """INSERT ... ON CONFLICT (keys) DO UPDATE SET columns, as batched executemany (SQLite and
    PostgreSQL spell it the same way)."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(table)
    statement = statement.on_conflict_do_update(
        index_elements=keys, set_={name: statement.excluded[name] for name in columns})
    for start in range(0, len(rows), BATCH):
        conn.execute(statement, rows[start:start + BATCH])


def import_dataset(engine: Engine, dataset: Dataset) -> dict[str, int]:
    """Upsert users, playlists (with tags) and likes, and recount likes: all or nothing."""
    catalogue = list(dataset.playlists.values())
    with engine.begin() as conn:
        upsert(conn, users, [{"id": uid, "name": name} for uid, name in dataset.users.items()],
               ["id"], ["name"])
        upsert(conn, playlists, [{"id": p.id, "name": p.name, "description": p.description,
                                  "tracks": p.tracks, "like_count": 0} for p in catalogue],
               ["id"], ["name", "description", "tracks"])
        ids = [p.id for p in catalogue]
        for start in range(0, len(ids), BATCH):
            conn.execute(playlist_tags.delete().where(
                playlist_tags.c.playlist_id.in_(ids[start:start + BATCH])))
        tag_rows = [{"playlist_id": p.id, "tag": tag, "position": position}
                    for p in catalogue for position, tag in enumerate(p.tags)]
        for start in range(0, len(tag_rows), BATCH):
            conn.execute(playlist_tags.insert(), tag_rows[start:start + BATCH])
        upsert(conn, likes, [{"user_id": u, "playlist_id": p, "weight": w, "liked_at": t}
                             for u, p, w, t in zip(dataset.user_ids, dataset.playlist_ids,
                                                   dataset.weights, dataset.timestamps)],
               ["user_id", "playlist_id"], ["weight", "liked_at"])
        # Recount every playlist in the same transaction (one indexed pass over likes).
        count = (select(func.count()).where(likes.c.playlist_id == playlists.c.id)
                 .scalar_subquery())
        conn.execute(update(playlists).values(like_count=count))
    return {"users": len(dataset.users), "playlists": len(catalogue), "likes": len(dataset)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m gateway.importer", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("data_dir", type=Path, help="directory with interactions.csv, "
                                                    "playlists.csv and users.csv")
    parser.add_argument("--database-url", help="default: DATABASE_URL or the gateway default")
    parser.add_argument("--if-empty", action="store_true",
                        help="do nothing when the database already holds data")
    args = parser.parse_args(argv)
    try:
        dataset = load_dataset(args.data_dir)
    except DataError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    for warning in dataset.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    settings = Settings(**({"database_url": args.database_url} if args.database_url else {}))
    engine = make_engine(settings.sqlalchemy_url)
    try:
        check_schema(engine)
        if args.if_empty and not Store(engine).is_empty():
            print(f"the database already holds data: {args.data_dir} not imported")
            return 0
        counts = import_dataset(engine, dataset)
    except SchemaNotReady as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    except DBAPIError as err:
        print(f"error: the database refused the import, nothing was written: "
              f"{str(err.orig).strip()[:500]}", file=sys.stderr)
        return 1
    finally:
        engine.dispose()
    print(f"imported {counts['likes']} likes, {counts['users']} users, "
          f"{counts['playlists']} playlists from {args.data_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
