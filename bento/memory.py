"""Will this data fit the memory this trainer has? An estimate made before loading anything.

The coefficients are the single-machine measurements in docs/SPARK.md (peak RSS of the whole
trainer at 1M and 10M interactions): a cost per interaction (parsed rows, the sparse matrices,
the holdout and validation copies) plus EASE's dense item x item matrices while EASE is a
candidate. Past the memory available, the trainer says to use `--engine spark`.
"""
from __future__ import annotations

from pathlib import Path

# Fitted to the measured peak RSS (docs/SPARK.md): 629 MiB + 403 bytes per interaction.
BYTES_PER_INTERACTION = 400
BASE_BYTES = 630 * 2**20           # interpreter, numpy/scipy/sklearn/bentoml, small data
EASE_DENSE_COPIES = 4               # Gram, inverse, weights, one scratch copy (float64)
SAMPLE_BYTES = 1 << 20


def count_rows(path: Path) -> int:
    """Rows of a CSV estimated from its size and the mean length of its first MiB of lines."""
    size = path.stat().st_size
    with open(path, "rb") as handle:
        sample = handle.read(SAMPLE_BYTES)
    lines = max(sample.count(b"\n"), 1)
    return int(size / (len(sample) / lines)) - 1


def estimate_bytes(interactions: int, items: int, ease_max_items: int) -> int:
    # EASE is dense over the whole catalogue up to ease_max_items, and over that many of the
    # most liked playlists past it (bento.recsys.algorithms: the EASE head).
    head = min(items, ease_max_items)
    dense = EASE_DENSE_COPIES * 8 * head * head
    return BASE_BYTES + BYTES_PER_INTERACTION * interactions + dense


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
