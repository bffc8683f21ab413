"""Reading the CSV data files: the text checked first, then the records streamed in chunks.

The csv module (strict) is the parser. A chunk of plain lines (no quote, no lone carriage
return, each line the header's width and within the csv module's field limit) is split with
`str.split` instead: for such lines that is exactly what the csv module returns, at a fraction
of its cost per row; any other chunk goes through the csv module.
"""
from __future__ import annotations

import codecs
import csv
from dataclasses import dataclass
from functools import cached_property
from itertools import chain, islice, repeat
from operator import itemgetter
from pathlib import Path
from typing import Callable, Iterator, Sequence

from datarules.csvformat import (COLUMNS, DataError, Playlist, check_description, check_id,
                                 check_name, check_tags)

TEXT_BLOCK = 1 << 24  # bytes per read when checking the text
CHUNK_ROWS = 1 << 16  # lines per chunk: bounds the memory of a streamed read


def check_text(path: Path) -> None:
    """Refuse an empty file, bytes that are not UTF-8 and NUL bytes, with the line, in that
    order of precedence, before any row is read; streamed in blocks, so memory stays bounded."""
    newlines, pending, blank, nul_line = 0, b"", True, None
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(TEXT_BLOCK), b""):
            data = pending + block
            try:
                used = codecs.utf_8_decode(data, "strict", False)[1]
            except UnicodeDecodeError as err:
                line = newlines + data[:err.start].count(b"\n") + 1
                raise DataError(path, line, "not valid UTF-8 text") from None
            if nul_line is None and b"\x00" in data:
                nul_line = newlines + data[:data.index(b"\x00")].count(b"\n") + 1
            blank = blank and not data.strip()
            pending = data[used:]  # a character cut by the block's end (never a newline)
            newlines += data[:used].count(b"\n")
    if pending:
        raise DataError(path, newlines + 1, "not valid UTF-8 text")
    if blank:
        raise DataError(path, 1, "file is empty")
    if nul_line:
        raise DataError(path, nul_line, "contains NUL bytes (binary data?)")


@dataclass
class Chunk:
    """Consecutive records of a CSV file and the line each ends on: the csv module's
    `records`, or for plain lines their `fields`, flat, record after record."""

    header: list[str]
    lines: Sequence[int]
    records: list[list[str]] | None = None
    fields: list[str] | None = None

    @cached_property
    def uniform(self) -> bool:
        """Every record has the header's width (so none is blank)."""
        return self.fields is not None or set(map(len, self.records)) == {len(self.header)}

    def column(self, name: str) -> Sequence[str] | None:
        """Field `name` (the last column of that name) of every record; None unless uniform."""
        if not self.uniform:
            return None
        width = len(self.header)
        index = width - 1 - self.header[::-1].index(name)
        if self.fields is not None:
            return self.fields[index::width]
        return list(map(itemgetter(index), self.records))

    def rows(self) -> Iterator[tuple[int, list[str]]]:
        """(line, record) for every record, blank ones included."""
        if self.records is not None:
            return zip(self.lines, self.records)
        width = len(self.header)
        return zip(self.lines, (self.fields[start:start + width]
                                for start in range(0, len(self.fields), width)))


def plain_fields(lines: list[str], width: int) -> list[str] | None:
    """The fields of lines the csv module would split at every comma and nowhere else (each
    ending in LF or CRLF, no quote, no other CR, the header's width, within the field limit),
    record after record; None for any other lines."""
    text = "".join(lines)
    if '"' in text or max(map(len, lines)) > csv.field_size_limit() \
            or set(map(str.count, lines, repeat(","))) != {width - 1}:
        return None
    if "\r" in text:
        if text.count("\r") != text.count("\r\n"):
            return None
        text = text.replace("\r\n", "\n")
    return (text[:-1] if text.endswith("\n") else text).replace("\n", ",").split(",")


def read_chunks(path: Path, warnings: list[str], size: int | None = None,
                progress: Callable[[int], None] | None = None) -> Iterator[Chunk]:
    """Chunks of about `size` lines (default CHUNK_ROWS), after `check_text` and the header's
    checks. A malformed record raises after the records before it were yielded, so an earlier
    bad row is still the one reported. `progress` gets the bytes read since its last call."""
    check_text(path)
    size = size or CHUNK_ROWS
    required, optional = COLUMNS[path.name]
    # newline="": the csv module sees line ends as written (NEL and U+2028 are field content).
    with open(path, encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle, strict=True)
        try:
            header = [name.strip() for name in next(reader)]
        except csv.Error as err:
            raise DataError(path, reader.line_num, f"malformed CSV: {err}") from None
        missing = [name for name in required if name not in header]
        if missing:
            raise DataError(path, 1, f"missing required column(s): {', '.join(missing)}")
        extra = [name for name in header if name not in required + optional]
        if extra:
            warnings.append(f"{path}:1: ignoring extra column(s): {', '.join(extra)}")
        done, reported = reader.line_num, 0  # lines read, bytes reported
        while lines := list(islice(handle, size)):
            fields = plain_fields(lines, len(header))
            if fields is not None:
                yield Chunk(header, range(done + 1, done + 1 + len(lines)), fields=fields)
                done += len(lines)
            else:
                # The last record may go on past these lines: the reader takes what it needs.
                reader = csv.reader(chain(lines, handle), strict=True)
                records, ends, error = [], [], None
                try:
                    while reader.line_num < len(lines):
                        records.append(next(reader))
                        ends.append(done + reader.line_num)
                except csv.Error as err:
                    error = DataError(path, done + reader.line_num, f"malformed CSV: {err}")
                if records:
                    yield Chunk(header, ends, records=records)
                if error:
                    raise error
                done += reader.line_num
            if progress:
                position = handle.buffer.tell()
                progress(position - reported)
                reported = position
        if progress:
            progress(path.stat().st_size - reported)


def checked_rows(path: Path, chunk: Chunk) -> Iterator[tuple[int, list[str]]]:
    """(line, record) for each non-blank record, refusing one of the wrong width."""
    width = len(chunk.header)
    for line, record in chunk.rows():
        if not any(record):  # blank line
            continue
        if len(record) != width:
            raise DataError(path, line, f"expected {width} fields, found {len(record)}")
        yield line, record


def read_rows(path: Path, warnings: list[str]) -> Iterator[tuple[int, dict[str, str]]]:
    """(line number, row dict) after checking text, header and field counts."""
    for chunk in read_chunks(path, warnings):
        for line, record in checked_rows(path, chunk):
            yield line, dict(zip(chunk.header, record))


def keyed_rows(path: Path, warnings: list[str],
               column: str) -> Iterator[tuple[int, dict[str, str], str]]:
    """(line, row, id) with `column` a valid id that no earlier row had."""
    seen: set[str] = set()
    for line, row in read_rows(path, warnings):
        key = check_id(row[column], path, line, column)
        if key in seen:
            raise DataError(path, line, f"duplicate {column} {key!r}")
        seen.add(key)
        yield line, row, key


def load_playlists(path: Path, warnings: list[str]) -> dict[str, Playlist]:
    playlists: dict[str, Playlist] = {}
    for line, row, playlist_id in keyed_rows(path, warnings, "playlist_id"):
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
    for line, row, user_id in keyed_rows(path, warnings, "user_id"):
        users[user_id] = check_name(row["name"], user_id, path, line)
    return users
