"""A data directory loaded, its interactions as arrays: streamed in chunks, ids turned into
integer codes as they come, weights and timestamps parsed per chunk with numpy, duplicate
(user, playlist) pairs merged on int64 keys.

The rules are `csvformat`'s: each distinct raw id is checked once by `check_id`, a value by
`parse_weight` / `parse_timestamp`. A chunk the vectorised path cannot take as it is (a bad
value, a blank line, an ISO 8601 time, a padded number, ...) is read again row by row with those
functions, which either give the same values or raise the first bad row's `file:line: reason`.
numpy is this module's one dependency beyond the standard library: `datarules` imports it only
when `Dataset` or `load_dataset` is asked for.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from datarules.csvformat import (INTERACTIONS, PLAYLISTS, USERS, DataError, Playlist, check_id,
                                 parse_timestamp, parse_weight)
from datarules.reading import Chunk, checked_rows, load_playlists, load_users, read_chunks

Columns = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]  # users, playlists, weights, times


@dataclass(eq=False)  # arrays do not compare to one truth value
class Dataset:
    """One row per distinct (user, playlist) pair, duplicates merged. `user_codes` index
    `user_index` (the listeners with interactions, in order of first appearance),
    `playlist_codes` the catalogue (`playlists`, in file order); `timestamp_column` is NaN
    where the file gave no time. `user_ids`, `playlist_ids`, `weights` and `timestamps` are the
    same rows as Python lists, built on first use, for code that works row by row."""

    user_index: list[str]
    user_codes: np.ndarray          # int32
    playlist_codes: np.ndarray      # int32
    weight_column: np.ndarray       # float64, summed over duplicates
    timestamp_column: np.ndarray    # float64 unix seconds, the latest of duplicates
    playlists: dict[str, Playlist]
    users: dict[str, str]
    warnings: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.user_codes)

    @classmethod
    def from_rows(cls, user_ids: list[str], playlist_ids: list[str], weights: list[float],
                  timestamps: list[float | None], playlists: dict[str, Playlist],
                  users: dict[str, str]) -> "Dataset":
        """Rows made in memory: distinct pairs, every playlist id a key of `playlists`."""
        user_index = list(dict.fromkeys(user_ids))
        user_code = {user_id: code for code, user_id in enumerate(user_index)}
        playlist_code = {playlist_id: code for code, playlist_id in enumerate(playlists)}
        return cls(user_index, np.asarray([user_code[u] for u in user_ids], np.int32),
                   np.asarray([playlist_code[p] for p in playlist_ids], np.int32),
                   np.asarray(weights, np.float64),
                   np.asarray([math.nan if t is None else t for t in timestamps], np.float64),
                   dict(playlists), dict(users))

    @cached_property
    def user_ids(self) -> list[str]:
        return list(map(self.user_index.__getitem__, self.user_codes.tolist()))

    @cached_property
    def playlist_ids(self) -> list[str]:
        return list(map(list(self.playlists).__getitem__, self.playlist_codes.tolist()))

    @cached_property
    def weights(self) -> list[float]:
        return self.weight_column.tolist()

    @cached_property
    def timestamps(self) -> list[float | None]:
        return [None if math.isnan(t) else t for t in self.timestamp_column.tolist()]


class Codes:
    """Integer codes for one id column: in order of first appearance, or fixed by a catalogue
    (then an id outside it is an error). Each distinct raw field is checked once, unless it is
    one of the `checked` ids (already checked, in users.csv or playlists.csv)."""

    def __init__(self, path: Path, column: str, catalogue: list[str] | None = None,
                 checked: dict[str, object] | None = None):
        self.path, self.column, self.closed = path, column, catalogue is not None
        self.ids: list[str] = list(catalogue or [])
        self.by_id = {value: code for code, value in enumerate(self.ids)}
        self.checked = checked if checked is not None else self.by_id
        self.by_raw: dict[str, int] = {}

    def code(self, raw: str, line: int | None) -> int:
        code = self.by_raw.get(raw)
        if code is None:
            # A checked id passes the id rule unchanged: the rule need not run again.
            value = raw if raw in self.checked else check_id(raw, self.path, line, self.column)
            code = self.by_id.get(value)
            if code is None:
                if self.closed:
                    raise DataError(self.path, line,
                                    f"{self.column} {value!r} is not in {PLAYLISTS}")
                code = self.by_id[value] = len(self.ids)
                self.ids.append(value)
            self.by_raw[raw] = code
        return code

    def codes(self, fields: Sequence[str]) -> np.ndarray:
        """The codes of a chunk's fields; a DataError without a line for a bad new one."""
        try:
            return np.fromiter(map(self.by_raw.__getitem__, fields), np.int32, len(fields))
        except KeyError:  # new raw values: coded in order of first appearance
            for raw in [raw for raw in dict.fromkeys(fields) if raw not in self.by_raw]:
                self.code(raw, None)
            return np.fromiter(map(self.by_raw.__getitem__, fields), np.int32, len(fields))


def floats(fields: Sequence[str], empty: float) -> np.ndarray:
    """Python's float() of each field, `empty` for an empty one; ValueError for anything else."""
    if "" in fields:
        return np.asarray([float(value) if value else empty for value in fields], np.float64)
    return np.fromiter(map(float, fields), np.float64, len(fields))


def fast_chunk(chunk: Chunk, users: Codes, playlists: Codes) -> Columns | None:
    """The chunk's columns, or None when a record needs the row-by-row path."""
    fields = {name: chunk.column(name) for name in ("user_id", "playlist_id", "weight",
                                                    "timestamp") if name in chunk.header}
    if fields["user_id"] is None:
        return None  # a blank record or a wrong field count
    absent = ("",) * len(fields["user_id"])
    stamps = fields.get("timestamp", absent)
    try:
        columns = (users.codes(fields["user_id"]), playlists.codes(fields["playlist_id"]),
                   floats(fields.get("weight", absent), 1.0), floats(stamps, math.nan))
    except (DataError, ValueError):
        return None
    weights, times = columns[2], columns[3]
    if not (np.isfinite(weights).all() and (weights > 0).all()):
        return None
    if np.isinf(times).any() or np.count_nonzero(np.isnan(times)) != stamps.count(""):
        return None  # "inf", or "nan" (an empty field is the one NaN allowed)
    return columns


def checked_chunk(path: Path, chunk: Chunk, users: Codes, playlists: Codes) -> Columns:
    """The chunk's columns row by row with the rules' functions; the first bad row raises."""
    user, playlist, weight, time = [], [], [], []
    for line, record in checked_rows(path, chunk):
        row = dict(zip(chunk.header, record))
        user.append(users.code(row["user_id"], line))
        playlist.append(playlists.code(row["playlist_id"], line))
        weight.append(parse_weight(row.get("weight", ""), path, line))
        stamp = parse_timestamp(row.get("timestamp", ""), path, line)
        time.append(math.nan if stamp is None else stamp)
    return (np.asarray(user, np.int32), np.asarray(playlist, np.int32),
            np.asarray(weight, np.float64), np.asarray(time, np.float64))


def merge_duplicates(columns: Columns) -> tuple[Columns, int]:
    """One row per (user, playlist) pair, where its first row was: weights summed, the latest
    timestamp kept. Returns the rows and how many were merged away."""
    user, playlist, weight, time = columns
    keys = (user.astype(np.int64) << 32) | playlist
    ordered = np.sort(keys)
    if ordered.size < 2 or (ordered[1:] != ordered[:-1]).all():
        return columns, 0
    order = np.argsort(keys, kind="stable")  # a pair's rows stay in file order
    starts = np.flatnonzero(np.concatenate(([True], ordered[1:] != ordered[:-1])))
    first_rows = order[starts]
    back = np.argsort(first_rows)
    rows = first_rows[back]
    merged = (user[rows], playlist[rows], np.add.reduceat(weight[order], starts)[back],
              np.fmax.reduceat(time[order], starts)[back])
    return merged, keys.size - starts.size


def load_dataset(data_dir: Path | str,
                 progress: Callable[[int], None] | None = None) -> Dataset:
    """Load a data directory; raise `DataError` (file:line: reason) on the first problem.
    `progress` is called with the bytes of the interactions file read since its last call."""
    data_dir = Path(data_dir)
    path = data_dir / INTERACTIONS
    if not path.is_file():
        raise DataError(path, None, "required file not found")
    warnings: list[str] = []
    known_playlists = (data_dir / PLAYLISTS).is_file()
    playlists = load_playlists(data_dir / PLAYLISTS, warnings) if known_playlists else {}
    users = load_users(data_dir / USERS, warnings) if (data_dir / USERS).is_file() else {}

    user_codes = Codes(path, "user_id", checked=users)
    playlist_codes = Codes(path, "playlist_id", list(playlists) if known_playlists else None)
    chunks = []
    for chunk in read_chunks(path, warnings, progress=progress):
        columns = fast_chunk(chunk, user_codes, playlist_codes)
        if columns is None:
            columns = checked_chunk(path, chunk, user_codes, playlist_codes)
        chunks.append(columns)
    if not chunks or not sum(len(columns[0]) for columns in chunks):
        raise DataError(path, None, "no interactions")
    columns, duplicates = merge_duplicates(tuple(np.concatenate(part) for part in zip(*chunks)))
    if duplicates:
        warnings.append(f"{path}: merged {duplicates} duplicate (user, playlist) rows: "
                        "weights summed, latest timestamp kept")
    if not known_playlists:
        playlists = {playlist_id: Playlist(id=playlist_id, name=playlist_id)
                     for playlist_id in playlist_codes.ids}
    for user_id in user_codes.ids:
        users.setdefault(user_id, user_id)
    return Dataset(user_codes.ids, *columns, playlists, users, warnings)
