"""Generate a deterministic, realistic sample dataset in the core data format.

Listeners have taste clusters (a few favourite genres and a mood), playlists have power-law
popularity, so collaborative filtering has real signal to find; play counts are heavy-tailed
and higher where a playlist fits the listener's taste. Vectorised and chunked, so it also
makes the 10M-interaction benchmark set (1M users x 100k playlists) in bounded memory.

    python -m bento.datagen --out data/sample --seed 0
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from bento.recsys.dataio import Playlist, write_dataset

GENRES = ["indie", "jazz", "hip-hop", "techno", "classical", "lo-fi", "metal", "pop", "folk",
          "r&b", "reggae", "ambient", "country", "latin", "k-pop", "punk", "soul", "house"]
MOODS = {
    "chill": ["Chill", "Mellow", "Easy"], "focus": ["Deep Focus", "Flow State", "Concentrate"],
    "workout": ["Workout", "Power", "Cardio"], "party": ["Party", "Friday Night", "Dancefloor"],
    "sleep": ["Sleepy", "Night Calm", "Drift Off"],
    "roadtrip": ["Road Trip", "Highway", "Open Road"],
    "rainy": ["Rainy Day", "Grey Skies", "Window Seat"],
    "morning": ["Morning", "Sunrise", "Coffee"],
    "summer": ["Summer", "Beach", "Sunset"], "heartbreak": ["Heartbreak", "Sad", "After Hours"],
    "study": ["Study", "Library", "Homework"], "throwback": ["Throwback", "Classic", "Golden"],
}
ERAS = ["70s", "80s", "90s", "00s", "10s", "20s"]
FIRST_NAMES = ["Ada", "Ben", "Chloe", "Dev", "Elena", "Farid", "Grace", "Hiro", "Ines", "Jonas",
               "Kira", "Liam", "Maya", "Noah", "Olga", "Priya", "Quinn", "Rosa", "Sami", "Tess",
               "Uma", "Victor", "Wen", "Ximena", "Yusuf", "Zoe", "Aiko", "Bruno", "Cleo", "Dario"]
LETTERS = "ABCDEFGHIJKLMNOPRSTVWZ"
DAY = 86_400
END_OF_SAMPLE = 1_767_225_600  # 2026-01-01T00:00:00Z, fixed so output is reproducible
CHUNK = 1 << 20  # interactions per vectorised step: bounds the temporary arrays


def make_playlists(rng: np.random.Generator, n_playlists: int):
    """Playlists with a genre, a mood, an era, a plausible name and Zipf-like popularity."""
    genre = rng.integers(len(GENRES), size=n_playlists)
    mood_keys = list(MOODS)
    mood = rng.integers(len(mood_keys), size=n_playlists)
    era = rng.integers(len(ERAS), size=n_playlists)
    popularity = 1.0 / np.arange(1, n_playlists + 1) ** 0.9
    rng.shuffle(popularity)
    playlists, seen_names = [], {}
    for index in range(n_playlists):
        genre_name, mood_key = GENRES[genre[index]], mood_keys[mood[index]]
        word = MOODS[mood_key][rng.integers(3)]
        style = rng.integers(3)
        if style == 0:
            name = f"{word} {genre_name.title()}"
        elif style == 1:
            name = f"{genre_name.title()} {word}"
        else:
            name = f"{ERAS[era[index]]} {genre_name.title()} {word}"
        seen_names[name] = seen_names.get(name, 0) + 1
        if seen_names[name] > 1:
            name = f"{name} Vol. {seen_names[name]}"
        tags = [genre_name, mood_key, ERAS[era[index]]]
        playlists.append(Playlist(
            id=f"pl{index + 1:04d}", name=name,
            description=f"{word.lower()} {genre_name} picks with a {ERAS[era[index]]} feel",
            tags=tags, tracks=int(rng.integers(12, 120))))
    return playlists, genre, mood, popularity


def pick_genres(rng: np.random.Generator, taste: np.ndarray, users: np.ndarray) -> np.ndarray:
    """A genre per interaction by inverse CDF over its user's taste, CHUNK interactions at a
    time so the interactions x genres comparison stays small."""
    cumulative_taste = np.cumsum(taste, axis=1)
    draws = rng.random(users.size)
    picked = np.empty(users.size, dtype=np.int64)
    for start in range(0, users.size, CHUNK):
        part = slice(start, start + CHUNK)
        picked[part] = (draws[part, None] > cumulative_taste[users[part]]).sum(axis=1)
    return np.minimum(picked, taste.shape[1] - 1)


def sample_interactions(rng: np.random.Generator, n_users: int, genre, mood, popularity,
                        mean_per_user: float):
    """Each interaction picks a genre from the user's taste, then a playlist by popularity.

    Memory is linear in interactions + playlists: a playlist is drawn by binary search in one
    cumulative weight row per (genre, mood), never an interactions x playlists matrix."""
    n_genres, n_moods = len(GENRES), len(MOODS)
    taste = rng.dirichlet(np.full(n_genres, 0.15), size=n_users)
    favourite_mood = rng.integers(n_moods, size=n_users)
    counts = np.maximum(3, rng.lognormal(np.log(mean_per_user) - 0.3, 0.8, n_users)).astype(int)
    users = np.repeat(np.arange(n_users), counts)
    picked_genre = pick_genres(rng, taste, users)
    # Within a genre, playlists in the user's favourite mood are three times as likely.
    order = np.lexsort((mood, genre))
    genre_sorted = genre[order]
    starts = np.searchsorted(genre_sorted, np.arange(n_genres))
    ends = np.searchsorted(genre_sorted, np.arange(n_genres), side="right")
    mood_boost = np.where(mood[order][None, :] == np.arange(n_moods)[:, None], 3.0, 1.0)
    weights = popularity[order][None, :] * mood_boost
    chosen = np.empty(users.size, dtype=np.int64)
    for g in range(n_genres):
        in_genre = np.flatnonzero(picked_genre == g)
        if ends[g] == starts[g] or in_genre.size == 0:
            chosen[in_genre] = rng.choice(genre.size, size=in_genre.size,
                                          p=popularity / popularity.sum())
            continue
        cumulative = np.cumsum(weights[:, starts[g]:ends[g]], axis=1)
        cumulative /= cumulative[:, -1:]
        user_mood = favourite_mood[users[in_genre]]
        draws = rng.random(in_genre.size)
        # side="left" counts the cumulative weights below the draw: the inverse CDF.
        position = np.empty(in_genre.size, dtype=np.int64)
        for m in range(n_moods):
            with_mood = user_mood == m
            position[with_mood] = np.searchsorted(cumulative[m], draws[with_mood], side="left")
        chosen[in_genre] = order[starts[g] + np.minimum(position, ends[g] - starts[g] - 1)]
    # A little noise: some plays ignore taste and follow the charts.
    noisy = rng.random(users.size) < 0.08
    chosen[noisy] = rng.choice(genre.size, size=int(noisy.sum()), p=popularity / popularity.sum())
    pairs, first = np.unique(users * genre.size + chosen, return_index=True)
    user_index, playlist_index = pairs // genre.size, pairs % genre.size
    return user_index, playlist_index, play_counts(rng, taste, favourite_mood, genre, mood,
                                                   user_index, playlist_index, noisy[first])


def play_counts(rng: np.random.Generator, taste, favourite_mood, genre, mood, users,
                playlists, noisy) -> np.ndarray:
    """Plays per like, heavy-tailed as real listening (lognormal: most liked playlists are
    played a few times, a few hundreds of times), more where the playlist fits the listener's
    taste (its genre's share of their taste, their favourite mood), and a chart pick outside
    it (`noisy`) tried once or twice: the counts carry signal."""
    fit = taste[users, genre[playlists]] + 0.5 * (favourite_mood[users] == mood[playlists])
    fit = np.where(noisy, 0.0, fit)
    return np.ceil(rng.lognormal(np.where(noisy, -0.5, 0.5 + 2.0 * fit), 1.1)).astype(np.int64)


def generate(out: Path, n_users: int, n_playlists: int, seed: int, mean_per_user: float) -> int:
    rng = np.random.default_rng(seed)
    playlists, genre, mood, popularity = make_playlists(rng, n_playlists)
    user_index, playlist_index, plays = sample_interactions(rng, n_users, genre, mood,
                                                            popularity, mean_per_user)
    timestamps = END_OF_SAMPLE - rng.integers(0, 365 * DAY, size=user_index.size)
    user_ids = [f"u{index + 1:05d}" for index in range(n_users)]
    names = {user_ids[i]: f"{FIRST_NAMES[i % len(FIRST_NAMES)]} "
                          f"{LETTERS[(i // len(FIRST_NAMES)) % len(LETTERS)]}."
             for i in range(n_users)}
    active = np.zeros(n_users, dtype=bool)
    active[user_index] = True
    users = {user_ids[i]: names[user_ids[i]] for i in np.flatnonzero(active).tolist()}
    playlist_ids = [playlist.id for playlist in playlists]

    def rows():
        """Chunk by chunk, so 10M rows never exist as Python objects at once."""
        for start in range(0, user_index.size, CHUNK):
            part = slice(start, start + CHUNK)
            yield from zip((user_ids[i] for i in user_index[part].tolist()),
                           (playlist_ids[i] for i in playlist_index[part].tolist()),
                           plays[part].astype(float).tolist(),
                           timestamps[part].astype(float).tolist())

    write_dataset(out, users, playlists, rows())
    return int(user_index.size)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, required=True, help="directory to write CSVs into")
    parser.add_argument("--users", type=int, default=3000)
    parser.add_argument("--playlists", type=int, default=800)
    parser.add_argument("--mean-per-user", type=float, default=30.0,
                        help="average interactions per user (log-normal)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    count = generate(args.out, args.users, args.playlists, args.seed, args.mean_per_user)
    print(f"wrote {count} interactions, {args.users} users, {args.playlists} playlists "
          f"to {args.out}")


if __name__ == "__main__":
    main()
