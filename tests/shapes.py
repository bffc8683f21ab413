"""Data directories in every shape the README's data format documents, written as a stranger
would write them: the minimal two columns, each optional column present or absent, optional files,
and the edges of the id rule. Small (200 listeners, 40 playlists) so each trains in seconds.

Listeners fall into four taste groups of ten playlists each, so a model that learns anything
recommends differently from popularity."""
from __future__ import annotations

import csv
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

import numpy as np

LISTENERS, GROUPS, PER_GROUP = 200, 4, 10
START = 1_735_689_600  # 2025-01-01T00:00:00Z
# Ids at the edges of datarules' id rule: the longest allowed, non-ASCII, characters a URL or a
# CSV must escape (space, comma, quote, %, ?, #), a dot and a minus inside, a leading digit.
EDGE_IDS = ["p" * 128, "Ünïcødé lïst", "日本のプレイリスト", "with space", "comma,inside",
            'quote"inside', "per%20cent", "what?", "hash#tag", "a.b-c", "0leading", "x" * 127 + "é"]


def likes(seed: int = 0) -> list[tuple[str, str]]:
    """(user_id, playlist_id) pairs: each listener ~8 playlists, mostly from their group."""
    rng = np.random.default_rng(seed)
    pairs = []
    for user in range(LISTENERS):
        group = user % GROUPS
        own = group * PER_GROUP + rng.choice(PER_GROUP, size=6, replace=False)
        other = rng.choice(GROUPS * PER_GROUP, size=2, replace=False)
        for item in sorted(set(own.tolist()) | set(other.tolist())):
            pairs.append((f"u{user}", f"p{item}"))
    return pairs


def write_csv(path: Path, header: list[str], rows: list[list]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)


def interactions(out: Path, pairs: list[tuple[str, str]], weight=None, timestamp=None) -> None:
    """interactions.csv with the optional columns that have a function (row index -> text)."""
    header = ["user_id", "playlist_id"] + (["weight"] if weight else []) + (
        ["timestamp"] if timestamp else [])
    rows = [[user, item] + ([weight(i)] if weight else []) + ([timestamp(i)] if timestamp else [])
            for i, (user, item) in enumerate(pairs)]
    write_csv(out / "interactions.csv", header, rows)


def play_count(i: int) -> str:
    """Heavy-tailed whole play counts, some fractional."""
    return str(1 + (i * 7919) % 97 // (1 + i % 13)) if i % 5 else f"{0.5 + i % 3}"


def unix_time(i: int) -> str:
    return str(START + i * 3600)


def iso_time(i: int) -> str:
    return datetime.fromtimestamp(START + i * 3600, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def mixed_time(i: int) -> str:
    return ("", unix_time(i), iso_time(i))[i % 3]


def playlist_ids(pairs) -> list[str]:
    return list(dict.fromkeys(item for _, item in sorted(pairs, key=lambda p: int(p[1][1:]))))


def playlists(out: Path, ids: list[str], columns: list[str]) -> None:
    """playlists.csv with `playlist_id,name` and the optional `columns` given."""
    values = {"description": lambda i: f"Songs for group {i % GROUPS}, line one",
              "tags": lambda i: f"group-{i % GROUPS}|Mood {i % 3}",
              "tracks": lambda i: str(10 + i)}
    write_csv(out / "playlists.csv", ["playlist_id", "name", *columns],
              [[pid, f"Playlist {pid[:20]}", *(values[c](i) for c in columns)]
               for i, pid in enumerate(ids)])


def users(out: Path, pairs) -> None:
    ids = list(dict.fromkeys(user for user, _ in pairs))
    write_csv(out / "users.csv", ["user_id", "name"], [[u, f"Listener {u}"] for u in ids])


def two_columns(out: Path) -> None:
    interactions(out, likes())


def with_weight(out: Path) -> None:
    interactions(out, likes(), weight=play_count)


def with_iso_times(out: Path) -> None:
    interactions(out, likes(), timestamp=iso_time)


def with_unix_times(out: Path) -> None:
    interactions(out, likes(), timestamp=unix_time)


def with_mixed_times(out: Path) -> None:
    interactions(out, likes(), weight=play_count, timestamp=mixed_time)


def with_names_only(out: Path) -> None:
    pairs = likes()
    interactions(out, pairs)
    playlists(out, playlist_ids(pairs), [])


def with_every_column(out: Path) -> None:
    pairs = likes()
    interactions(out, pairs, weight=play_count, timestamp=iso_time)
    playlists(out, playlist_ids(pairs), ["description", "tags", "tracks"])
    users(out, pairs)


def with_tags_and_users(out: Path) -> None:
    pairs = likes()
    interactions(out, pairs)
    playlists(out, playlist_ids(pairs), ["tags"])
    users(out, pairs)


def with_loners(out: Path) -> None:
    """One listener with one like, and a playlist nobody liked (listed in playlists.csv)."""
    pairs = likes() + [("lonely", "p3")]
    interactions(out, pairs)
    playlists(out, playlist_ids(pairs) + ["nobody-liked"], ["tracks"])


def with_edge_ids(out: Path) -> None:
    """Playlists p0..p11 renamed to the edge ids, and listeners with such ids too."""
    rename = {f"p{i}": edge for i, edge in enumerate(EDGE_IDS)}
    pairs = [(rename.get(f"p{user[1:]}", user) if user in ("u0", "u1") else user,
              rename.get(item, item)) for user, item in likes()]
    interactions(out, pairs, timestamp=unix_time)
    playlists(out, [rename.get(pid, pid) for pid in playlist_ids(likes())], ["tags"])


SHAPES: dict[str, Callable[[Path], None]] = {
    "two columns": two_columns, "weight": with_weight, "iso times": with_iso_times,
    "unix times": with_unix_times, "mixed and empty times": with_mixed_times,
    "names only": with_names_only, "every column": with_every_column,
    "tags and users": with_tags_and_users, "loners": with_loners, "edge ids": with_edge_ids,
}


def write_shape(name: str, out: Path) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    SHAPES[name](out)
    return out
