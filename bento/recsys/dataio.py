"""Read and write the core data format (see README "Data format").

Standard library only, so the gateway can import and export the same format without numpy.
Every problem is a `DataError` naming the file, the line and the reason; nothing is written
by a failed load.
"""
from __future__ import annotations

import csv
import math
import os
import re
import tempfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

MAX_ID_LENGTH = 128
MAX_FIELD_CHARS = 10_000
FORMULA_PREFIXES = ("=", "+", "@", "\t", "\r")
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")

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
    value = value.strip()
    if not value:
        raise DataError(path, line, f"empty {column}")
    if len(value) > MAX_ID_LENGTH:
        raise DataError(path, line, f"{column} longer than {MAX_ID_LENGTH} characters")
    if CONTROL_CHARACTERS.search(value):
        raise DataError(path, line, f"{column} contains control characters")
    return value


def looks_like_formula(value: str) -> bool:
    """True for text a spreadsheet would run as a formula (CSV injection)."""
    return value.startswith(FORMULA_PREFIXES) or (
        value.startswith("-") and value[1:2] in ("=", "+", "@", "("))


def check_text(value: str, path: Path, line: int, column: str) -> str:
    value = value.strip()
    if looks_like_formula(value):
        raise DataError(path, line, f"{column} {value[:30]!r} looks like a spreadsheet formula")
    if len(value) > MAX_FIELD_CHARS:
        raise DataError(path, line, f"{column} longer than {MAX_FIELD_CHARS} characters")
    return value


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
    reader = csv.reader(text.splitlines(keepends=True), strict=True)
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
        tags = [check_text(tag, path, line, "tag").lower()
                for tag in row.get("tags", "").split("|") if tag.strip()]
        playlists[playlist_id] = Playlist(
            id=playlist_id,
            name=check_text(row["name"], path, line, "name") or playlist_id,
            description=check_text(row.get("description", ""), path, line, "description"),
            tags=list(dict.fromkeys(tags)),
            tracks=int(tracks) if tracks else None,
        )
    return playlists


def load_users(path: Path, warnings: list[str]) -> dict[str, str]:
    users: dict[str, str] = {}
    for line, row in read_rows(path, warnings):
        user_id = check_id(row["user_id"], path, line, "user_id")
        if user_id in users:
            raise DataError(path, line, f"duplicate user_id {user_id!r}")
        users[user_id] = check_text(row["name"], path, line, "name") or user_id
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
                     ((p.id, p.name, p.description, "|".join(p.tags),
                       "" if p.tracks is None else p.tracks) for p in playlists))
    write_csv_atomic(data_dir / INTERACTIONS, ["user_id", "playlist_id", "weight", "timestamp"],
                     ((user, playlist, f"{weight:g}", "" if ts is None else f"{ts:.0f}")
                      for user, playlist, weight, ts in interactions))
