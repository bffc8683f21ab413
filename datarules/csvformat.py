"""The core data format on disk (README "Data format"): three CSV files, read and written.

Standard library only: the columns, the per-field checks and their wording, and the writers;
`datarules.reading` reads the files, `datarules.interactions` loads a data directory. Every
problem is a `DataError` naming the file, the line and the reason; nothing is written by a
failed load. What each value may be is `datarules.rules`.
"""
from __future__ import annotations

import csv
import math
import os
import tempfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from datarules.rules import (TAG_SEPARATOR, description_problem, id_problem, name_problem,
                             normalize_tag, tags_problem)

INTERACTIONS = "interactions.csv"
# The same likes as a Parquet snapshot (gateway.export --likes parquet), read by the Spark engine.
PARQUET_INTERACTIONS = "interactions.parquet"
PLAYLISTS = "playlists.csv"
USERS = "users.csv"
COLUMNS = {
    INTERACTIONS: (("user_id", "playlist_id"), ("weight", "timestamp")),
    PLAYLISTS: (("playlist_id", "name"), ("description", "tags", "tracks")),
    USERS: (("user_id", "name"), ()),
}


class DataError(ValueError):
    """A data file problem, worded as `file:line: reason`."""

    def __init__(self, path: Path | str, line: int | None, reason: str):
        self.path, self.line, self.reason = str(path), line, reason
        where = f"{path}:{line}" if line else str(path)
        super().__init__(f"{where}: {reason}")


@dataclass
class Playlist:
    id: str
    name: str
    description: str = ""
    tags: list[str] = field(default_factory=list)
    tracks: int | None = None


def check_id(value: str, path: Path, line: int, column: str) -> str:
    """Fields are trimmed, then the id rule applies (an id of spaces is an empty id)."""
    value = value.strip()
    problem = id_problem(value)
    if problem == "must not be empty":
        raise DataError(path, line, f"empty {column}")
    if problem:
        raise DataError(path, line, f"{column} {problem}: {value[:40]!r}")
    return value


def check_name(value: str, default: str, path: Path, line: int, column: str = "name") -> str:
    """A trimmed name; an empty one becomes `default` (the id)."""
    value = value.strip()
    problem = name_problem(value) if value else None
    if problem:
        raise DataError(path, line, f"{column} {problem}")
    return value or default


def check_description(value: str, path: Path, line: int) -> str:
    value = value.strip().replace("\r\n", "\n")
    problem = description_problem(value)
    if problem:
        raise DataError(path, line, f"description {problem}")
    return value


def check_tags(value: str, path: Path, line: int) -> list[str]:
    """`a|b|c`, normalized to lower case, duplicates dropped in order."""
    tags = list(dict.fromkeys(normalize_tag(tag) for tag in value.split(TAG_SEPARATOR)
                              if tag.strip()))
    problem = tags_problem(tags)
    if problem:
        raise DataError(path, line, problem)
    return tags


def parse_weight(value: str, path: Path, line: int) -> float:
    if not value.strip():
        return 1.0
    try:
        weight = float(value)
    except ValueError:
        raise DataError(path, line, f"weight {value[:30]!r} is not a number") from None
    if not math.isfinite(weight) or weight <= 0:
        raise DataError(path, line, f"weight {value[:30]!r} must be a positive number")
    return weight


def parse_timestamp(value: str, path: Path, line: int) -> float | None:
    value = value.strip()
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise DataError(path, line, f"timestamp {value[:40]!r} is neither ISO 8601 "
                                        "nor unix seconds") from None
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=timezone.utc)
        return parsed.timestamp()
    if not math.isfinite(seconds):
        raise DataError(path, line, f"timestamp {value[:40]!r} is not finite")
    return seconds


def write_csv_atomic(path: Path, header: list[str], rows) -> None:
    """Write to a temporary file beside `path`, then rename, so readers never see half a file."""
    handle, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        os.fchmod(handle, 0o644)  # mkstemp makes 0600; data files are for other readers too
        with os.fdopen(handle, "w", newline="", encoding="utf-8") as out:
            writer = csv.writer(out)
            writer.writerow(header)
            writer.writerows(rows)
        os.replace(tmp_name, path)
    except BaseException:
        os.unlink(tmp_name)
        raise


def write_dataset(data_dir: Path | str, users, playlists, interactions) -> None:
    """Write the three files, streaming: `users` is a dict or yields (user_id, name) pairs,
    `playlists` yields `Playlist`s, `interactions` (user_id, playlist_id, weight, timestamp)."""
    data_dir = Path(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    user_rows = sorted(users.items()) if isinstance(users, dict) else users
    write_csv_atomic(data_dir / USERS, ["user_id", "name"], user_rows)
    write_csv_atomic(data_dir / PLAYLISTS,
                     ["playlist_id", "name", "description", "tags", "tracks"],
                     ((p.id, p.name, p.description, TAG_SEPARATOR.join(p.tags),
                       "" if p.tracks is None else p.tracks) for p in playlists))
    write_csv_atomic(data_dir / INTERACTIONS, ["user_id", "playlist_id", "weight", "timestamp"],
                     ((user, playlist, f"{weight:g}", "" if ts is None else f"{ts:.0f}")
                      for user, playlist, weight, ts in interactions))
