"""The streamed interactions loader: chunk boundaries change nothing, a bad row in any chunk is
reported at its real line, duplicates merge across chunks, odd but valid values take the
row-by-row path and load the same."""
from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from datarules import DataError, Dataset, Playlist, load_dataset, reading
from devtools.procs import REPO_ROOT

HEADER = "user_id,playlist_id,weight,timestamp\n"


def write(tmp_path: Path, interactions: str | bytes) -> Path:
    path = tmp_path / "interactions.csv"
    (path.write_bytes if isinstance(interactions, bytes) else path.write_text)(interactions)
    return tmp_path


def rows(dataset: Dataset) -> list[tuple]:
    return list(zip(dataset.user_ids, dataset.playlist_ids, dataset.weights, dataset.timestamps))


@pytest.fixture(params=[1, 2, 3, 1 << 16], ids=lambda size: f"chunk{size}")
def chunk_rows(request, monkeypatch):
    """Every test here runs with chunks of 1, 2, 3 records and with the default."""
    monkeypatch.setattr(reading, "CHUNK_ROWS", request.param)
    return request.param


def test_rows_load_the_same_at_every_chunk_size(tmp_path, chunk_rows):
    data = write(tmp_path, HEADER + "u1,p1,2,100\nu2,p2,1,200\nu1,p3,0.5,\nu3,p1,,300\n"
                 "u2,p3,4,400\n")
    dataset = load_dataset(data)
    assert rows(dataset) == [("u1", "p1", 2.0, 100.0), ("u2", "p2", 1.0, 200.0),
                             ("u1", "p3", 0.5, None), ("u3", "p1", 1.0, 300.0),
                             ("u2", "p3", 4.0, 400.0)]
    assert dataset.user_index == ["u1", "u2", "u3"]
    assert list(dataset.playlists) == ["p1", "p2", "p3"]
    assert dataset.user_codes.tolist() == [0, 1, 0, 2, 1]
    assert dataset.playlist_codes.tolist() == [0, 1, 2, 0, 2]
    assert not dataset.warnings


def test_duplicates_merge_across_chunks_where_the_pair_first_came(tmp_path, chunk_rows):
    data = write(tmp_path, HEADER + "u1,p1,2,100\nu2,p2,1,\nu3,p3,1,50\nu1,p1,1.5,90\n"
                 "u2,p2,1,70\nu1,p1,1,120\n")
    dataset = load_dataset(data)
    assert rows(dataset) == [("u1", "p1", 4.5, 120.0), ("u2", "p2", 2.0, 70.0),
                             ("u3", "p3", 1.0, 50.0)]
    assert any("merged 3 duplicate (user, playlist) rows" in w for w in dataset.warnings)


@pytest.mark.parametrize("body, line, reason", [
    ("u1,p1,1,1\nu2,p2,1,2\nu3,p3,1,3\nu4,p4,1,4\nu5,p5,-1,5\n", 6,
     "weight '-1' must be a positive number"),
    ("u1,p1,1,1\nu2,p2,1,2\nu3,p3,1,3\nu4,p4,1,4\nu5,p5,1,inf\n", 6,
     "timestamp 'inf' is not finite"),
    ("u1,p1,1,1\nu2,p2,1,2\nu3,p3,1,3\nu4,p4,1,nan\n", 5, "timestamp 'nan' is not finite"),
    ("u1,p1,1,1\nu2,p2,1,2\nu3,p3,1,3\nu4,p4,1,4\n=x,p5,1,5\n", 6,
     "user_id looks like a spreadsheet formula"),
    # a bad id is checked once: where it first appears, even when it repeats later
    ("u1,p1,1,1\nu2,p2,1,2\nu3,a/b,1,3\nu4,a/b,1,4\n", 4, "playlist_id must not contain '/'"),
    ("u1,p1,1,1\nu2,p2,1,2\nu3,p3,1,3\nu4,p4,1\n", 5, "expected 4 fields, found 3"),
    # the bad row comes before the malformed one in the same chunk: it is reported
    ("u1,p1,1,1\nu2,p2,x,2\nu3,\"p3,1,3\n", 3, "weight 'x' is not a number"),
    ("u1,p1,1,1\nu2,p2,1,2\nu3,\"p3,1,3\n", 4, "malformed CSV"),
])
def test_a_bad_row_in_a_later_chunk_reports_its_real_line(tmp_path, chunk_rows, body, line,
                                                          reason):
    data = write(tmp_path, HEADER + body)
    with pytest.raises(DataError) as caught:
        load_dataset(data)
    assert caught.value.line == line and reason in caught.value.reason
    assert str(caught.value).startswith(f"{data / 'interactions.csv'}:{line}: ")


def test_multi_line_quoted_fields_count_their_lines(tmp_path, chunk_rows):
    """An extra column may hold quoted line breaks; a row's line is where the record ends."""
    interactions = ("user_id,playlist_id,note\nu1,p1,\"two\nlines\"\nu2,p2,\"three\r\nlines\n"
                    "here\"\nu3,p3,plain\n")
    dataset = load_dataset(write(tmp_path, interactions))
    assert rows(dataset) == [("u1", "p1", 1.0, None), ("u2", "p2", 1.0, None),
                             ("u3", "p3", 1.0, None)]
    with pytest.raises(DataError) as caught:
        load_dataset(write(tmp_path, interactions + "u4,..,x\n"))
    assert caught.value.line == 8 and "must not be '.' or '..'" in caught.value.reason


def test_values_the_fast_path_leaves_to_the_rules_load_the_same(tmp_path, chunk_rows):
    """Padded ids and numbers, blank lines, empty and spaced fields, ISO times, CRLF."""
    data = write(tmp_path, "user_id,playlist_id,weight,timestamp\r\n"
                           " u1 ,p1, 2 ,2025-01-01T00:00:00Z\r\n"
                           "\r\n"
                           "u1,p2,  ,1735776000\r\n"
                           ",,,\r\n"
                           "u2,p1,1_0, 1735776000 \r\n"
                           "u2,p2,3,2025-01-01T01:00:00+01:00\r\n")
    dataset = load_dataset(data)
    assert rows(dataset) == [("u1", "p1", 2.0, 1735689600.0), ("u1", "p2", 1.0, 1735776000.0),
                             ("u2", "p1", 10.0, 1735776000.0), ("u2", "p2", 3.0, 1735689600.0)]
    assert dataset.user_index == ["u1", "u2"]


def test_playlists_outside_the_catalogue_are_refused_in_any_chunk(tmp_path, chunk_rows):
    (tmp_path / "playlists.csv").write_text("playlist_id,name\np1,One\np2,Two\n")
    data = write(tmp_path, HEADER + "u1,p2,1,1\nu2,p1,1,2\nu3,p1,1,3\nu4,p9,1,4\n")
    with pytest.raises(DataError, match=r"interactions.csv:5: playlist_id 'p9' is not in "
                                        r"playlists.csv"):
        load_dataset(data)
    (tmp_path / "interactions.csv").write_text(HEADER + "u1,p2,1,1\nu2,p1,1,2\n")
    dataset = load_dataset(data)
    assert dataset.playlist_codes.tolist() == [1, 0]  # the catalogue's order, not the file's
    assert dataset.playlist_ids == ["p2", "p1"]


def test_encoding_is_checked_across_blocks(tmp_path, monkeypatch):
    """Read in 5-byte blocks: a character cut by a block's end is fine, a bad byte is not."""
    monkeypatch.setattr(reading, "TEXT_BLOCK", 5)
    data = write(tmp_path, HEADER + "u1,pé\u00fc€,1,1\n")
    assert load_dataset(data).playlist_ids == ["pé\u00fc€"]
    write(tmp_path, (HEADER + "u1,p1,1,1\nu2,p\xc3").encode("latin-1") + b"\xff\n")
    with pytest.raises(DataError, match=r"interactions.csv:3: not valid UTF-8 text"):
        load_dataset(data)
    write(tmp_path, (HEADER + "u1,p1,1,1\nu2,p").encode() + "é".encode()[:1])
    with pytest.raises(DataError, match=r"interactions.csv:3: not valid UTF-8 text"):
        load_dataset(data)


def test_progress_reports_every_byte(tmp_path, monkeypatch):
    monkeypatch.setattr(reading, "CHUNK_ROWS", 2)
    data = write(tmp_path, HEADER + "".join(f"u{n},p{n % 3},1,{n}\n" for n in range(7)))
    reported: list[int] = []
    load_dataset(data, progress=reported.append)
    assert len(reported) >= 4 and sum(reported) == (data / "interactions.csv").stat().st_size


def test_from_rows_and_the_row_views():
    playlists = {"a": Playlist("a", "A"), "b": Playlist("b", "B")}
    dataset = Dataset.from_rows(["x", "y", "x"], ["b", "a", "a"], [1.0, 2.0, 3.0],
                                [None, 5.0, 6.0], playlists, {"x": "X", "y": "Y"})
    assert dataset.user_codes.tolist() == [0, 1, 0]
    assert dataset.playlist_codes.tolist() == [1, 0, 0]
    assert math.isnan(dataset.timestamp_column[0]) and dataset.timestamps == [None, 5.0, 6.0]
    assert dataset.playlist_ids == ["b", "a", "a"] and len(dataset) == 3
    assert dataset.weight_column.dtype == np.float64


def test_checking_values_does_not_load_numpy():
    """The gateway's server and the Bento's request types import `datarules` for its rules;
    numpy comes in only with the loader."""
    code = ("import sys, datarules; datarules.id_problem('u1'); datarules.write_dataset; "
            "assert 'numpy' not in sys.modules; datarules.load_dataset; "
            "assert 'numpy' in sys.modules")
    subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, check=True)
