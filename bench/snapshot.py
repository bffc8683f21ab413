"""Peak memory of the retrain snapshot (gateway.export, streamed) against row count, next to
the old all-in-memory export (Store.export_rows + write_dataset) in the same run.

    python -m bench.snapshot [--likes 1000000,3000000] [--database-url URL]

Each export runs as a child process; its peak RSS is that child's own ru_maxrss (os.wait4). Without
--database-url the likes go into a SQLite file under a temp dir (~60 bytes a like on disk).
"""
from __future__ import annotations

import argparse
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from gateway.store import Store, make_engine

PLAYLISTS = 20_011          # prime: user u's likes (u*31 + j*97) % PLAYLISTS are distinct
LIKES_PER_USER = 10
BASELINE = ("import sys; from pathlib import Path; from bento.recsys.dataio import write_dataset;"
            "from gateway.store import Store, make_engine;"
            "write_dataset(Path(sys.argv[2]), *Store(make_engine(sys.argv[1])).export_rows())")


def fill_sqlite(path: Path, n_likes: int) -> str:
    url = f"sqlite:///{path}"
    Store(make_engine(url)).create_schema()
    n_users = n_likes // LIKES_PER_USER
    with sqlite3.connect(path) as conn:
        conn.executemany("INSERT INTO users VALUES (?, ?)",
                         ((f"u{u:08}", f"User {u}") for u in range(n_users)))
        conn.executemany("INSERT INTO playlists (id, name, description, tracks) "
                         "VALUES (?, ?, '', 10)",
                         ((f"p{p:05}", f"Playlist {p}") for p in range(PLAYLISTS)))
        conn.executemany("INSERT INTO likes VALUES (?, ?, 1.0, ?)",
                         ((f"u{u:08}", f"p{(u * 31 + j * 97) % PLAYLISTS:05}", 1.7e9 + u)
                          for u in range(n_users) for j in range(LIKES_PER_USER)))
    return url


def peak_child(args: list[str]) -> tuple[float, float]:
    """(seconds, peak RSS MiB) of one child process, from its own rusage (os.wait4)."""
    started = time.perf_counter()
    env = {**os.environ, "PYTHONPATH": "."}
    child = subprocess.Popen(args, stdout=subprocess.DEVNULL, env=env)
    _, status, usage = os.wait4(child.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{args[:3]} failed")
    return time.perf_counter() - started, usage.ru_maxrss / 1024


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--likes", default="1000000,3000000",
                        help="comma-separated row counts, ascending")
    parser.add_argument("--database-url", help="an already filled database instead")
    args = parser.parse_args(argv)
    print(f"{'likes':>12} {'streamed s':>11} {'streamed MiB':>13} {'in-memory s':>12} "
          f"{'in-memory MiB':>14}")
    for n_likes in sorted(int(n) for n in args.likes.split(",")):
        with tempfile.TemporaryDirectory(prefix="bench-snapshot-") as scratch:
            scratch = Path(scratch)
            url = args.database_url or fill_sqlite(scratch / "gateway.db", n_likes)
            streamed = peak_child([sys.executable, "-m", "gateway.export", "--out",
                                   str(scratch / "streamed"), "--database-url", url])
            in_memory = peak_child([sys.executable, "-c", BASELINE, url,
                                    str(scratch / "in-memory")])
        print(f"{n_likes:>12,} {streamed[0]:>11.1f} {streamed[1]:>13.0f} {in_memory[0]:>12.1f} "
              f"{in_memory[1]:>14.0f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
