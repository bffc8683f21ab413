"""The shared rules: each bad id, name and tag is refused with a reason; good ones pass."""
from __future__ import annotations

from pathlib import Path

import pytest

import datarules
from datarules import DataError, load_dataset, write_dataset

GOOD_IDS = ["u1", "pl0001", "a b", "Café-Ü", "x" * 128, "a.b", "...x", "-1", "100%", "a?b#c"]
BAD_IDS = {
    "": "must not be empty",
    "   ": "whitespace",
    " u1": "whitespace",
    "u1 ": "whitespace",
    "x" * 129: "longer than 128",
    "../x": "'/'",
    "a/b": "'/'",
    ".": "'.' or '..'",
    "..": "'.' or '..'",
    "u\x85x": "control characters",   # C1 NEL
    "u\x9fx": "control characters",   # C1
    "u\x7f": "control characters",    # DEL
    "u\nx": "control characters",
    "u\u00a0x": "unprintable",        # no-break space
    "u\u200bx": "unprintable",        # zero-width space (format)
    "u\u2028x": "unprintable",        # line separator
    "=cmd()": "formula",
    "+1": "formula",
    "@x": "formula",
    "-=x": "formula",
}


@pytest.mark.parametrize("value", GOOD_IDS)
def test_good_ids_pass(value):
    assert datarules.id_problem(value) is None


@pytest.mark.parametrize("value, reason", BAD_IDS.items())
def test_bad_ids_are_refused_with_a_reason(value, reason):
    assert reason in (datarules.id_problem(value) or "")


@pytest.mark.parametrize("value, reason", [
    ("", "empty"), (" Ada", "whitespace"), ("=HYPERLINK()", "formula"),
    ("a\x85b", "control"), ("a\nb", "control"), ("n" * 201, "longer than 200")])
def test_bad_names(value, reason):
    assert reason in (datarules.name_problem(value) or "")


def test_descriptions_may_span_lines_but_hold_no_other_controls():
    assert datarules.description_problem("line one\nline\ttwo") is None
    assert "control" in datarules.description_problem("bell\x07")
    assert "formula" in datarules.description_problem("=1+1")


@pytest.mark.parametrize("tags, reason", [
    (["Rock"], "lower case"), (["a|b"], "'|'"), ([""], "empty"), (["x"] * 51, "more than 50"),
    (["+x"], "formula")])
def test_bad_tags(tags, reason):
    assert reason in (datarules.tags_problem(tags) or "")


def write(tmp_path: Path, interactions: str, playlists: str | None = None) -> Path:
    (tmp_path / "interactions.csv").write_text(interactions, encoding="utf-8")
    if playlists is not None:
        (tmp_path / "playlists.csv").write_text(playlists, encoding="utf-8")
    return tmp_path


@pytest.mark.parametrize("row, reason", [
    ("   ,p1", "empty user_id"),
    ("../x,p1", "user_id must not contain '/'"),
    ("u1,..", "playlist_id must not be '.' or '..'"),
    ("u\u0085x,p1", "user_id contains control characters"),
    ("=cmd,p1", "user_id looks like a spreadsheet formula"),
])
def test_data_files_refuse_bad_ids_with_file_and_line(tmp_path, row, reason):
    data = write(tmp_path, f"user_id,playlist_id\nu1,p1\n{row}\n")
    with pytest.raises(DataError) as err:
        load_dataset(data)
    assert err.value.line == 3 and reason in err.value.reason
    assert str(err.value).startswith(f"{data / 'interactions.csv'}:3: ")


def test_data_files_refuse_bad_tags_and_names(tmp_path):
    data = write(tmp_path, "user_id,playlist_id\nu1,p1\n",
                 "playlist_id,name,tags\np1,Chill,ok|Bad\u0085tag\n")
    with pytest.raises(DataError, match=r"playlists.csv:2: tag .* control characters"):
        load_dataset(data)


def test_what_loads_writes_and_loads_back_the_same(tmp_path):
    """Every id the rules accept survives export and reload unchanged."""
    users = {uid: f"name {n}" for n, uid in enumerate(GOOD_IDS)}
    playlists = [datarules.Playlist(pid, f"P {n}", "two\nlines", ["a", "b c"], n)
                 for n, pid in enumerate(GOOD_IDS)]
    likes = [(uid, pid, 1.0, 1_700_000_000.0) for uid in GOOD_IDS for pid in GOOD_IDS[:2]]
    write_dataset(tmp_path, users, playlists, likes)
    dataset = load_dataset(tmp_path)
    assert dataset.users == users
    assert list(dataset.playlists.values()) == playlists
    assert list(zip(dataset.user_ids, dataset.playlist_ids)) == [(u, p) for u, p, *_ in likes]


def test_the_plain_id_shortcut_agrees_with_every_check():
    """datarules.rules.PLAIN_ID: every id it lets through passes the checks one by one, and
    id_problem answers what the checks answer, on random ids built from the characters each
    check looks at and on the edges by hand."""
    import random

    from datarules.rules import PLAIN_ID, id_checks

    alphabet = "aZ09_.-/ =+@(%\t\r\n\x7f\x85\u00e9\u200b"
    rng = random.Random(5)
    values = ["-", "-=", "-1", ".", "..", "...", "_", "9", "a" * 128, "a" * 129, "a\n", "A-"]
    values += ["".join(rng.choice(alphabet) for _ in range(rng.choice([1, 2, 3, 8, 127, 129])))
               for _ in range(3000)]
    values += ["".join(rng.choice("aZ09_.-") for _ in range(rng.randint(1, 130)))
               for _ in range(3000)]
    for value in values:
        assert datarules.id_problem(value) == id_checks(value), repr(value)
        if PLAIN_ID.fullmatch(value):
            assert id_checks(value) is None, repr(value)
    assert PLAIN_ID.fullmatch("pl0001") and not PLAIN_ID.fullmatch("a" * 129)
    assert not PLAIN_ID.fullmatch("-1") and not PLAIN_ID.fullmatch("a\n")


def test_raising_turns_a_check_into_a_validator():
    valid_id = datarules.raising(datarules.id_problem)
    assert valid_id("u1") == "u1"
    with pytest.raises(ValueError, match="must not contain '/'"):
        valid_id("../x")


def test_data_files_hold_at_most_the_tags_the_api_takes(tmp_path):
    tags = "|".join(f"t{n}" for n in range(51))
    data = write(tmp_path, "user_id,playlist_id\nu1,p1\n", f"playlist_id,name,tags\np1,A,{tags}\n")
    with pytest.raises(DataError, match=r"playlists.csv:2: more than 50 tags"):
        load_dataset(data)
