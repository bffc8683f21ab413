"""The data format: every bad input names file, line and reason; good input loads exactly."""
from __future__ import annotations

from pathlib import Path

import pytest

from bento.recsys.dataio import DataError, Playlist, load_dataset, write_dataset

GOOD_PLAYLISTS = "playlist_id,name,tags\np1,Chill,chill|lo-fi\np2,Rock,rock\n"


def make_dir(tmp_path: Path, interactions: str | bytes, playlists: str | None = None,
             users: str | None = None) -> Path:
    for name, content in (("interactions.csv", interactions), ("playlists.csv", playlists),
                          ("users.csv", users)):
        if content is not None:
            path = tmp_path / name
            (path.write_bytes if isinstance(content, bytes) else path.write_text)(content)
    return tmp_path


@pytest.mark.parametrize("interactions, playlists, file, line, reason", [
    ("user_id,weight\nu1,1\n", None, "interactions.csv", 1, "missing required column(s): "
     "playlist_id"),
    ("user_id,playlist_id\nu1,p1\n,p2\n", None, "interactions.csv", 3, "empty user_id"),
    ("user_id,playlist_id\nu1,  \n", None, "interactions.csv", 2, "empty playlist_id"),
    ("user_id,playlist_id,weight\nu1,p1,lots\n", None, "interactions.csv", 2,
     "weight 'lots' is not a number"),
    ("user_id,playlist_id,weight\nu1,p1,1\nu1,p2,0\n", None, "interactions.csv", 3,
     "weight '0' must be a positive number"),
    ("user_id,playlist_id,weight\nu1,p1,-2\n", None, "interactions.csv", 2,
     "weight '-2' must be a positive number"),
    ("user_id,playlist_id,weight\nu1,p1,nan\n", None, "interactions.csv", 2,
     "weight 'nan' must be a positive number"),
    (b"user_id,playlist_id\nu1,p1\nu\xff\xfe,p2\n", None, "interactions.csv", 3,
     "not valid UTF-8 text"),
    ("", None, "interactions.csv", 1, "file is empty"),
    ("user_id,playlist_id\n", None, "interactions.csv", None, "no interactions"),
    ("user_id,playlist_id\nu1,p1\nu1,p9\n", GOOD_PLAYLISTS, "interactions.csv", 3,
     "playlist_id 'p9' is not in playlists.csv"),
    ("user_id,playlist_id,timestamp\nu1,p1,yesterday\n", None, "interactions.csv", 2,
     "timestamp 'yesterday' is neither ISO 8601 nor unix seconds"),
    ("user_id,playlist_id\nu1,p1,extra\n", None, "interactions.csv", 2,
     "expected 2 fields, found 3"),
    (b"user_id,playlist_id\nu1,p1\n\x00\x01\x02,p2\n", None, "interactions.csv", 3,
     "contains NUL bytes (binary data?)"),
    ("user_id,playlist_id\nu1,\"p1\n", None, "interactions.csv", 2, "malformed CSV"),
    ("user_id,playlist_id\nu1," + "p" * 200 + "\n", None, "interactions.csv", 2,
     "playlist_id longer than 128 characters"),
    ("user_id,playlist_id\nu1,p1\n", "playlist_id,name\np1,=HYPERLINK(\"http://x\")\n",
     "playlists.csv", 2, "looks like a spreadsheet formula"),
    ("user_id,playlist_id\nu1,p1\n", "playlist_id,name\np1,A\np1,B\n", "playlists.csv", 3,
     "duplicate playlist_id 'p1'"),
    ("user_id,playlist_id\nu1,p1\n", "playlist_id,name,tracks\np1,A,many\n", "playlists.csv", 2,
     "tracks 'many' is not a whole number"),
    ("user_id,playlist_id\nu1,p1\n", "name\nA\n", "playlists.csv", 1,
     "missing required column(s): playlist_id"),
])
def test_bad_input_names_file_line_and_reason(tmp_path, interactions, playlists, file, line,
                                              reason):
    data_dir = make_dir(tmp_path, interactions, playlists)
    with pytest.raises(DataError) as caught:
        load_dataset(data_dir)
    error = caught.value
    assert Path(error.path).name == file
    assert error.line == line
    assert reason in error.reason
    where = f"{data_dir / file}:{line}" if line else str(data_dir / file)
    assert str(error).startswith(where + ": ")


def test_missing_interactions_file(tmp_path):
    with pytest.raises(DataError, match="interactions.csv: required file not found"):
        load_dataset(tmp_path)


def test_huge_line_is_a_clear_error_not_a_crash(tmp_path):
    make_dir(tmp_path, "user_id,playlist_id\nu1,p1\nu2," + "x" * 5_000_000 + "\n")
    with pytest.raises(DataError) as caught:
        load_dataset(tmp_path)
    assert caught.value.line == 3


def test_duplicates_merge_and_extra_columns_warn(tmp_path):
    make_dir(tmp_path,
             "user_id,playlist_id,weight,timestamp,device\n"
             "u1,p1,2,2025-01-01T00:00:00Z,phone\n"
             "u1,p1,1.5,1735776000,web\n"
             "u2,p2,,,tv\n",
             GOOD_PLAYLISTS, "user_id,name\nu1,Ada\n")
    dataset = load_dataset(tmp_path)
    assert dataset.user_ids == ["u1", "u2"]
    assert dataset.playlist_ids == ["p1", "p2"]
    assert dataset.weights == [3.5, 1.0]
    assert dataset.timestamps == [1735776000.0, None]
    assert dataset.users == {"u1": "Ada", "u2": "u2"}
    assert dataset.playlists["p1"].tags == ["chill", "lo-fi"]
    assert any("ignoring extra column(s): device" in w for w in dataset.warnings)
    assert any("merged 1 duplicate" in w for w in dataset.warnings)


def test_missing_playlists_file_names_default_to_ids(tmp_path):
    make_dir(tmp_path, "user_id,playlist_id\nu1,p7\n")
    assert load_dataset(tmp_path).playlists["p7"].name == "p7"


def test_write_then_load_round_trips(tmp_path):
    playlists = [Playlist("p1", "Night, \"Drive\"", "late", ["synth", "night"], 12),
                 Playlist("p2", "Café Ünïcode", "", [], None)]
    write_dataset(tmp_path, {"u1": "Zoë"}, playlists,
                  [("u1", "p1", 2.0, 1700000000.0), ("u1", "p2", 1.0, None)])
    dataset = load_dataset(tmp_path)
    assert dataset.playlists["p1"] == playlists[0]
    assert dataset.playlists["p2"] == playlists[1]
    assert dataset.users == {"u1": "Zoë"}
    assert dataset.weights == [2.0, 1.0]
    assert dataset.timestamps == [1700000000.0, None]
    assert not list(tmp_path.glob(".*"))  # no temporary files left behind
    assert {oct(path.stat().st_mode & 0o777) for path in tmp_path.iterdir()} == {"0o644"}
