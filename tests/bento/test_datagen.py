"""The generator: deterministic per seed, and chunking never changes what it draws."""
from __future__ import annotations

import csv
from collections import Counter

from bento import datagen


def read(directory):
    return {name: (directory / name).read_bytes()
            for name in ("users.csv", "playlists.csv", "interactions.csv")}


def test_same_seed_same_files_and_chunk_size_does_not_matter(tmp_path, monkeypatch):
    first = datagen.generate(tmp_path / "a", 400, 120, seed=7, mean_per_user=12)
    datagen.generate(tmp_path / "b", 400, 120, seed=7, mean_per_user=12)
    monkeypatch.setattr(datagen, "CHUNK", 97)  # many ragged chunks
    datagen.generate(tmp_path / "c", 400, 120, seed=7, mean_per_user=12)
    datagen.generate(tmp_path / "d", 400, 120, seed=8, mean_per_user=12)
    assert first > 400 * 3
    assert read(tmp_path / "a") == read(tmp_path / "b") == read(tmp_path / "c")
    assert read(tmp_path / "a")["interactions.csv"] != read(tmp_path / "d")["interactions.csv"]


def test_interactions_are_unique_long_tailed_and_taste_clustered(tmp_path):
    datagen.generate(tmp_path, 2000, 300, seed=0, mean_per_user=15)
    with open(tmp_path / "interactions.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    pairs = [(row["user_id"], row["playlist_id"]) for row in rows]
    assert len(pairs) == len(set(pairs))
    per_playlist = sorted(Counter(p for _, p in pairs).values(), reverse=True)
    # Zipf-like popularity: the top 10% of playlists hold well over 10% of the plays.
    assert sum(per_playlist[:30]) > 0.25 * len(pairs)
    genre_of = {}
    with open(tmp_path / "playlists.csv", newline="") as handle:
        for row in csv.DictReader(handle):
            genre_of[row["playlist_id"]] = row["tags"].split("|")[0]
    by_user: dict[str, Counter] = {}
    for user, playlist in pairs:
        by_user.setdefault(user, Counter())[genre_of[playlist]] += 1
    # Taste clusters: a user's favourite genre holds far more than 1/18 of their plays.
    top_share = [max(c.values()) / sum(c.values()) for c in by_user.values()]
    assert sum(top_share) / len(top_share) > 0.4
