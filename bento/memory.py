"""Will this data fit the memory this trainer has? An estimate made before loading anything.

The coefficients are fitted to the single-machine measurements in docs/SPARK.md (`python -m
bench.ceiling`: peak RSS of the whole trainer at ~1M, ~10M and ~47M interactions over 100,000
playlists, least squares): a cost per interaction (the loaded columns, the sparse matrices,
the holdout and validation copies, the Gram matrices the settings search caches) plus EASE's
dense item x item matrices over the catalogue or its head. Past the memory available, the
trainer says to use `--engine spark`.
"""
from __future__ import annotations

from pathlib import Path

EASE_DENSE_COPIES = 4               # Gram, inverse, weights, one scratch copy (float64)
# (interactions, playlists, peak RSS in MiB) of the whole trainer, bench.ceiling (docs/SPARK.md)
MEASURED = ((940_211, 100_000, 1_874), (9_393_252, 100_000, 4_301),
            (47_025_483, 100_000, 13_005))
SAMPLE_BYTES = 1 << 20
MEASURED_HEAD = 4096                # EASE's dense head in those runs (EASE_MAX_ITEMS)


def dense_bytes(items: int, ease_max_items: int) -> int:
    """EASE is dense over the whole catalogue up to ease_max_items, and over that many of the
    most liked playlists past it (bento.recsys.algorithms: the EASE head)."""
    head = min(items, ease_max_items)
    return EASE_DENSE_COPIES * 8 * head * head


def fitted() -> tuple[int, int]:
    """(base bytes, bytes per interaction): the least-squares line through the measurements,
    EASE's dense matrices taken out of each first."""
    xs = [n for n, _, _ in MEASURED]
    ys = [mib * 2**20 - dense_bytes(items, MEASURED_HEAD) for _, items, mib in MEASURED]
    x_mean, y_mean = sum(xs) / len(xs), sum(ys) / len(ys)
    per = sum((x - x_mean) * (y - y_mean) for x, y in zip(xs, ys)) / sum(
        (x - x_mean) ** 2 for x in xs)
    return int(y_mean - per * x_mean), int(round(per))


BASE_BYTES, BYTES_PER_INTERACTION = fitted()


def count_rows(path: Path) -> int:
    """Rows of a CSV estimated from its size and the mean length of its first MiB of lines."""
    size = path.stat().st_size
    with open(path, "rb") as handle:
        sample = handle.read(SAMPLE_BYTES)
    lines = max(sample.count(b"\n"), 1)
    return int(size / (len(sample) / lines)) - 1


def estimate_bytes(interactions: int, items: int, ease_max_items: int) -> int:
    return BASE_BYTES + BYTES_PER_INTERACTION * interactions + dense_bytes(items, ease_max_items)


def available_bytes(meminfo: Path = Path("/proc/meminfo")) -> int:
    """MemAvailable (Linux), or no limit where the kernel does not say."""
    try:
        for line in meminfo.read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 2**62


def fit_warning(data_dir: Path, ease_max_items: int) -> str | None:
    """A warning to print when the estimate exceeds the memory available, else None."""
    interactions_csv, playlists_csv = data_dir / "interactions.csv", data_dir / "playlists.csv"
    if not interactions_csv.is_file() or not playlists_csv.is_file():
        return None  # the loader reports the missing file with its own message
    rows, items = count_rows(interactions_csv), count_rows(playlists_csv)
    need, have = estimate_bytes(rows, items, ease_max_items), available_bytes()
    if need <= have:
        return None
    return (f"about {rows:,} interactions x {items:,} playlists need about "
            f"{need / 2**30:.1f} GiB but {have / 2**30:.1f} GiB are available: this may run out "
            f"of memory; use --engine spark (docs/SPARK.md)")
