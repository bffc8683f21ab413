"""Write users, playlists and likes in the core data format, so the trainer learns from them.

    python -m gateway.export --out DIR        # then: python -m bento.train --data DIR
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from datarules import write_dataset
from gateway.settings import Settings
from gateway.store import Store, make_engine


def export(store: Store, out_dir: Path) -> dict[str, int]:
    users, playlists, interactions = store.export_rows()
    write_dataset(out_dir, users, playlists, interactions)
    return {"users": len(users), "playlists": len(playlists), "interactions": len(interactions)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m gateway.export", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, required=True, help="directory to write CSVs to")
    parser.add_argument("--database-url", help="default: DATABASE_URL or the gateway default")
    args = parser.parse_args(argv)
    settings = Settings(**({"database_url": args.database_url} if args.database_url else {}))
    engine = make_engine(settings.sqlalchemy_url)
    try:
        counts = export(Store(engine), args.out)
    finally:
        engine.dispose()
    print(f"wrote {counts['interactions']} interactions, {counts['users']} users, "
          f"{counts['playlists']} playlists to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
