"""The core data format on disk (README "Data format"): three CSV files, read and written.

Standard library only. Every problem is a `DataError` naming the file, the line and the reason;
nothing is written by a failed load. What each value may be is `datarules.rules`.
"""
from __future__ import annotations

import csv
import io
import math
import os
import tempfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from datarules.rules import (TAG_SEPARATOR, description_problem, id_problem, name_problem,
                             normalize_tag, tags_problem)

INTERACTIONS = "interactions.csv"
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


@dataclass
class Dataset:
    """Interactions as parallel columns; duplicates of a (user, playlist) pair are merged."""

    user_ids: list[str]
    playlist_ids: list[str]
    weights: list[float]
    timestamps: list[float | None]
    playlists: dict[str, Playlist]
    users: dict[str, str]
    warnings: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.user_ids)


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


def read_rows(path: Path, warnings: list[str]):
    """Yield (line number, row dict) after checking encoding, header and field counts."""
    raw = path.read_bytes()
    if not raw.strip():
        raise DataError(path, 1, "file is empty")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = raw[:err.start].count(b"\n") + 1
        raise DataError(path, line, "not valid UTF-8 text") from None
    if "\x00" in text:
        line = text[:text.index("\x00")].count("\n") + 1
        raise DataError(path, line, "contains NUL bytes (binary data?)")
    required, optional = COLUMNS[path.name]
    # Not str.splitlines: that also breaks lines at NEL and U+2028, which are field content.
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = [name.strip() for name in next(reader)]
        missing = [name for name in required if name not in header]
        if missing:
            raise DataError(path, 1, f"missing required column(s): {', '.join(missing)}")
        extra = [name for name in header if name not in required + optional]
        if extra:
            warnings.append(f"{path}:1: ignoring extra column(s): {', '.join(extra)}")
        for row in reader:
            line = reader.line_num
            if not any(row):  # blank line
                continue
            if len(row) != len(header):
                raise DataError(path, line, f"expected {len(header)} fields, found {len(row)}")
            yield line, dict(zip(header, row))
    except csv.Error as err:
        raise DataError(path, reader.line_num, f"malformed CSV: {err}") from None


def load_playlists(path: Path, warnings: list[str]) -> dict[str, Playlist]:
    playlists: dict[str, Playlist] = {}
    for line, row in read_rows(path, warnings):
        playlist_id = check_id(row["playlist_id"], path, line, "playlist_id")
        if playlist_id in playlists:
            raise DataError(path, line, f"duplicate playlist_id {playlist_id!r}")
        tracks = row.get("tracks", "").strip()
        if tracks and not (tracks.isdigit() and len(tracks) < 10):
            raise DataError(path, line, f"tracks {tracks[:30]!r} is not a whole number")
        playlists[playlist_id] = Playlist(
            id=playlist_id,
            name=check_name(row["name"], playlist_id, path, line),
            description=check_description(row.get("description", ""), path, line),
            tags=check_tags(row.get("tags", ""), path, line),
            tracks=int(tracks) if tracks else None,
        )
    return playlists


def load_users(path: Path, warnings: list[str]) -> dict[str, str]:
    users: dict[str, str] = {}
    for line, row in read_rows(path, warnings):
        user_id = check_id(row["user_id"], path, line, "user_id")
        if user_id in users:
            raise DataError(path, line, f"duplicate user_id {user_id!r}")
        users[user_id] = check_name(row["name"], user_id, path, line)
    return users


def load_dataset(data_dir: Path | str) -> Dataset:
    """Load a data directory; raise `DataError` (file:line: reason) on the first problem."""
    data_dir = Path(data_dir)
    interactions_path = data_dir / INTERACTIONS
    if not interactions_path.is_file():
        raise DataError(interactions_path, None, "required file not found")
    warnings: list[str] = []
    known_playlists = (data_dir / PLAYLISTS).is_file()
    playlists = load_playlists(data_dir / PLAYLISTS, warnings) if known_playlists else {}
    users = load_users(data_dir / USERS, warnings) if (data_dir / USERS).is_file() else {}

    # Ids repeat on most rows: check each distinct raw value once per column.
    checked: dict[str, dict[str, str]] = {"user_id": {}, "playlist_id": {}}

    def checked_id(raw: str, line: int, column: str) -> str:
        seen_ids = checked[column]
        value = seen_ids.get(raw)
        if value is None:
            value = seen_ids[raw] = check_id(raw, interactions_path, line, column)
        return value

    pair_index: dict[tuple[str, str], int] = {}
    user_ids: list[str] = []
    playlist_ids: list[str] = []
    weights: list[float] = []
    timestamps: list[float | None] = []
    duplicates = 0
    for line, row in read_rows(interactions_path, warnings):
        user_id = checked_id(row["user_id"], line, "user_id")
        playlist_id = checked_id(row["playlist_id"], line, "playlist_id")
        if known_playlists and playlist_id not in playlists:
            raise DataError(interactions_path, line,
                            f"playlist_id {playlist_id!r} is not in {PLAYLISTS}")
        weight = parse_weight(row.get("weight", ""), interactions_path, line)
        timestamp = parse_timestamp(row.get("timestamp", ""), interactions_path, line)
        seen = pair_index.get((user_id, playlist_id))
        if seen is not None:
            duplicates += 1
            weights[seen] += weight
            if timestamp is not None and (timestamps[seen] or -math.inf) < timestamp:
                timestamps[seen] = timestamp
            continue
        pair_index[(user_id, playlist_id)] = len(user_ids)
        user_ids.append(user_id)
        playlist_ids.append(playlist_id)
        weights.append(weight)
        timestamps.append(timestamp)
    if not user_ids:
        raise DataError(interactions_path, None, "no interactions")
    if duplicates:
        warnings.append(f"{interactions_path}: merged {duplicates} duplicate (user, playlist) "
                        "rows: weights summed, latest timestamp kept")
    for playlist_id in dict.fromkeys(playlist_ids):
        if playlist_id not in playlists:
            playlists[playlist_id] = Playlist(id=playlist_id, name=playlist_id)
    for user_id in dict.fromkeys(user_ids):
        users.setdefault(user_id, user_id)
    return Dataset(user_ids, playlist_ids, weights, timestamps, playlists, users, warnings)


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
