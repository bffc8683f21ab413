"""Benchmark datasets as binary user x item matrices, fetched once into bench/.cache (gitignored).

- sample: `python -m bento.datagen --seed 0` (the project's default data).
- ml-100k: MovieLens-100K ratings from the recbole==1.2.1 wheel on PyPI; a rating >= 4 is a
  positive (implicit feedback), or every rating with `all_ratings=True`.
- supermarket: 4,627 real New Zealand supermarket baskets over 216 departments, the
  `supermarket.arff` example shipped in Debian's `weka` package (market-basket data).
- citeulike-a: 5,551 CiteULike users' libraries over 16,980 articles (real, long-tailed), read
  from ../shared/datasets/citeulike-a/ (never copied: not even into the cache).
- synthetic-1m: the generator at 100k users x 20k playlists, ~1M interactions, for time and RSS.
- synthetic-10m: the generator at 1M users x 100k playlists, ~9.4M interactions (trainer only).
"""
from __future__ import annotations

import glob
import io
import subprocess
import sys
import tarfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy.sparse as sp

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / "bench" / ".cache"
RECBOLE = "recbole==1.2.1"
ML100K_MEMBER = "recbole/dataset_example/ml-100k/ml-100k.inter"
SUPERMARKET_MEMBER = "./usr/share/doc/weka/examples/supermarket.arff"
# ../shared/datasets next to the clone (or next to a folder of worktrees above it).
SHARED = next((parent / "shared" / "datasets" for parent in ROOT.parents
               if (parent / "shared" / "datasets").is_dir()), ROOT.parent / "shared" / "datasets")
GENERATED = {"sample": [], "synthetic-1m": ["--users", "100000", "--playlists", "20000",
                                            "--mean-per-user", "11"],
             "synthetic-10m": ["--users", "1000000", "--playlists", "100000",
                               "--mean-per-user", "10"]}


@dataclass
class Interactions:
    name: str
    user_items: sp.csr_matrix
    item_ids: list[str]
    source: str

    def describe(self) -> str:
        n_users, n_items = self.user_items.shape
        density = self.user_items.nnz / max(n_users * n_items, 1)
        return (f"{self.name}: {n_users} users, {n_items} items, {self.user_items.nnz} "
                f"positives, density {density:.4f} ({self.source})")


def from_pairs(name: str, users: list[str], items: list[str], source: str) -> Interactions:
    """Binary matrix from (user, item) pairs; duplicates collapse to one positive."""
    user_codes, user_index = np.unique(np.asarray(users), return_inverse=True)
    item_codes, item_index = np.unique(np.asarray(items), return_inverse=True)
    matrix = sp.csr_matrix((np.ones(len(users), dtype=np.float32), (user_index, item_index)),
                           shape=(len(user_codes), len(item_codes)))
    matrix.data[:] = 1.0
    return Interactions(name, matrix, [str(item) for item in item_codes], source)


def movielens_rows() -> list[list[str]]:
    """ml-100k's ratings as (user, item, rating, timestamp) strings, from the RecBole wheel
    (fetched into the cache once)."""
    wheels = sorted(CACHE.glob("recbole-1.2.1-*.whl"))
    if not wheels:
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "-q", RECBOLE,
                        "-d", str(CACHE)], check=True)
        wheels = sorted(CACHE.glob("recbole-1.2.1-*.whl"))
    with zipfile.ZipFile(wheels[0]) as wheel:
        lines = wheel.read(ML100K_MEMBER).decode("utf-8").splitlines()[1:]
    return [line.split("\t") for line in lines if line.strip()]


def movielens_100k(all_ratings: bool = False) -> Interactions:
    rows = movielens_rows()
    kept = [(user, item) for user, item, rating, _ in rows if all_ratings or float(rating) >= 4]
    label = "all ratings" if all_ratings else "ratings >= 4"
    return from_pairs("ml-100k" + ("-all" if all_ratings else ""), [u for u, _ in kept],
                      [i for _, i in kept], f"{RECBOLE} wheel, {label} as positives")


def supermarket() -> Interactions:
    debs = glob.glob(str(CACHE / "weka_*_all.deb"))
    if not debs:
        download = ["apt-get", "download", "-q", "weka"]
        if subprocess.run(download, cwd=CACHE, stdout=subprocess.DEVNULL).returncode:
            subprocess.run(["apt-get", "update", "-qq"], check=True)  # fresh machine: no lists
            subprocess.run(download, cwd=CACHE, check=True, stdout=subprocess.DEVNULL)
        debs = glob.glob(str(CACHE / "weka_*_all.deb"))
    payload = subprocess.run(["dpkg-deb", "--fsys-tarfile", debs[0]], check=True,
                             capture_output=True).stdout
    with tarfile.open(fileobj=io.BytesIO(payload)) as archive:
        text = archive.extractfile(SUPERMARKET_MEMBER).read().decode("latin-1")
    header, data = text.split("@data", 1)
    departments = [line.split("'")[1] for line in header.splitlines()
                   if line.startswith("@attribute") and "department" in line]
    users, items = [], []
    for basket, line in enumerate(line for line in data.splitlines() if line.strip()):
        for column, value in enumerate(line.split(",")[:len(departments)]):
            if value.strip() == "t":
                users.append(f"b{basket}")
                items.append(departments[column])
    return from_pairs("supermarket", users, items, f"Debian {Path(debs[0]).name}")


def citeulike_a() -> Interactions:
    """users.dat: line u is user u's article count, then the article ids (0-based)."""
    path = SHARED / "citeulike-a" / "users.dat"
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing: citeulike-a is read from the shared "
                                "datasets folder next to the repository")
    users, items = [], []
    for user, line in enumerate(path.read_text(encoding="utf-8").splitlines()):
        articles = line.split()[1:]
        users.extend([f"u{user}"] * len(articles))
        items.extend(f"a{article}" for article in articles)
    return from_pairs("citeulike-a", users, items, "shared/datasets/citeulike-a, users.dat")


def generated_dir(name: str) -> Path:
    """The generated set's CSV directory, made on first use."""
    directory = CACHE / name
    if not (directory / "interactions.csv").is_file():
        subprocess.run([sys.executable, "-m", "bento.datagen", "--out", str(directory),
                        "--seed", "0", *GENERATED[name]], check=True, cwd=ROOT)
    return directory


def generated(name: str) -> Interactions:
    from bento.recsys.dataio import load_dataset
    from bento.recsys.matrix import binarize, build_matrix

    directory = generated_dir(name)
    matrix = build_matrix(load_dataset(directory))
    return Interactions(name, binarize(matrix.user_items), matrix.item_ids,
                        f"python -m bento.datagen --seed 0 {' '.join(GENERATED[name])}".strip())


def load(name: str) -> Interactions:
    """One dataset by name, cached as a .npz after the first build."""
    CACHE.mkdir(parents=True, exist_ok=True)
    if name == "citeulike-a":
        return citeulike_a()
    cached = CACHE / f"{name}.npz"
    if cached.is_file():
        with np.load(cached, allow_pickle=False) as arrays:
            matrix = sp.csr_matrix((arrays["data"], arrays["indices"], arrays["indptr"]),
                                   shape=tuple(arrays["shape"]))
            return Interactions(name, matrix, arrays["item_ids"].tolist(), str(arrays["source"]))
    builders = {"ml-100k": movielens_100k, "ml-100k-all": lambda: movielens_100k(True),
                "supermarket": supermarket}
    dataset = builders[name]() if name in builders else generated(name)
    matrix = dataset.user_items
    np.savez(cached, data=matrix.data, indices=matrix.indices, indptr=matrix.indptr,
             shape=np.asarray(matrix.shape), item_ids=np.asarray(dataset.item_ids),
             source=np.asarray(dataset.source))
    return dataset
