"""Browse latency (GET /api/playlists, most liked first) at 1M and 3M likes on SQLite: the old
query, which counted the whole likes table per request, next to the maintained
`playlists.like_count` column, in the same run on the same database.

    python -m bench.browse [--playlists 10000] [--users 100000] [--repeat 30]

Builds a migrated SQLite database in a temp dir (alembic upgrade head), fills it with random
likes, keeps like_count as the importer does, and times `Store.list_playlists` (the code
behind the route) against the previous implementation of the same call.
"""
from __future__ import annotations

import argparse
import random
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import func, select

from gateway.store import Store, make_engine
from gateway.tables import likes, playlists

REPO_ROOT = Path(__file__).resolve().parent.parent


def old_list_playlists(store: Store, limit: int, offset: int) -> tuple[list[dict], int]:
    """The browse query before like_count: a GROUP BY over all likes, every request."""
    counts = (select(likes.c.playlist_id, func.count().label("n"))
              .group_by(likes.c.playlist_id).subquery())
    like_count = func.coalesce(counts.c.n, 0).label("like_count")
    query = (select(playlists.c.id, playlists.c.name, playlists.c.description,
                    playlists.c.tracks, like_count)
             .outerjoin(counts, counts.c.playlist_id == playlists.c.id)
             .order_by(like_count.desc(), playlists.c.id).limit(limit).offset(offset))
    with store.engine.connect() as conn:
        total = conn.execute(select(func.count()).select_from(playlists)).scalar()
        rows = [dict(row) for row in conn.execute(query).mappings()]
        return store._with_tags(conn, rows), total


def new_list_playlists(store: Store, limit: int, offset: int) -> tuple[list[dict], int]:
    return store.list_playlists(None, None, limit, offset)


def fill(path: Path, users: int, playlist_count: int, pairs: list[int]) -> None:
    """Insert likes for `pairs` (user * playlists + playlist) and recount like_count."""
    with sqlite3.connect(path) as conn:
        conn.executemany("INSERT INTO likes (user_id, playlist_id, weight, liked_at) "
                         "VALUES (?, ?, 1.0, NULL)",
                         ((f"u{p // playlist_count}", f"pl{p % playlist_count}") for p in pairs))
        conn.execute("UPDATE playlists SET like_count = (SELECT COUNT(*) FROM likes "
                     "WHERE likes.playlist_id = playlists.id)")


def timed(call, store: Store, repeat: int) -> list[float]:
    call(store, 20, 0)  # warm the page cache
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        call(store, 20, 0)
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--playlists", type=int, default=10_000)
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-browse-") as tmp:
        path = Path(tmp) / "browse.db"
        subprocess.run([str(Path(sys.executable).parent / "alembic"), "upgrade", "head"],
                       cwd=REPO_ROOT, check=True, capture_output=True,
                       env={"DATABASE_URL": f"sqlite:///{path}", "PATH": "/usr/bin:/bin"})
        with sqlite3.connect(path) as conn:
            conn.executemany("INSERT INTO users (id, name) VALUES (?, ?)",
                             ((f"u{n}", f"User {n}") for n in range(args.users)))
            conn.executemany("INSERT INTO playlists (id, name, description, like_count) "
                             "VALUES (?, ?, '', 0)",
                             ((f"pl{n}", f"Playlist {n}") for n in range(args.playlists)))
        pairs = random.Random(args.seed).sample(range(args.users * args.playlists), 3_000_000)
        engine = make_engine(f"sqlite:///{path}")
        store = Store(engine)
        print(f"SQLite {sqlite3.sqlite_version}, {args.playlists} playlists, {args.users} users, "
              f"first page of 20, {args.repeat} runs each (ms)")
        print(f"{'likes':>10}  {'query':<28}{'p50':>9}{'p95':>9}")
        done = 0
        for total in (1_000_000, 3_000_000):
            fill(path, args.users, args.playlists, pairs[done:total])
            done = total
            engine.dispose()  # fresh connections see the new statistics
            first_ids = None
            for label, call in (("count likes per request", old_list_playlists),
                                ("maintained like_count", new_list_playlists)):
                samples = sorted(timed(call, store, args.repeat))
                ids = [p["id"] for p in call(store, 20, 0)[0]]
                assert first_ids is None or ids == first_ids, "the two queries disagree"
                first_ids = ids
                p95 = samples[min(len(samples) - 1, int(len(samples) * 0.95))]
                print(f"{total:>10,}  {label:<28}{statistics.median(samples):>9.2f}{p95:>9.2f}",
                      flush=True)
        engine.dispose()


if __name__ == "__main__":
    main()
