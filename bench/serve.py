"""Serving and training figures for the core, each next to a baseline from the same run.

    python -m bench.serve [--requests 3000] [--skip-training] [--out docs/SERVING.md]

1. Training: `python -m bento.train` on ~1M synthetic interactions (100k users x 20k playlists):
   wall time and peak RSS of the trainer process (goals: <= 60 s, <= 4 GiB).
2. Serving: `/recommend` on a 10k-playlist catalogue through a real `bentoml serve`, against a
   bare BentoML echo service with the same request shape (goal: within 1.2x of it), at 1 and 8
   concurrent clients. Everything runs on loopback in a throwaway BENTOML_HOME.
"""
from __future__ import annotations

import argparse
import asyncio
import csv
import os
import platform
import random
import resource
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from bench.loadgen import run_load
from bento.datagen import generate
from devtools.procs import REPO_ROOT, VENV_BIN, free_port, start_server


def train(data_dir: Path, home: Path, *extra: str) -> tuple[float, float]:
    """Run the trainer CLI as the only child process: (seconds, peak RSS in GiB)."""
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "bento.train", "--data", str(data_dir), *extra],
                   check=True, cwd=REPO_ROOT, stdout=subprocess.DEVNULL,
                   env={**os.environ, "BENTOML_HOME": str(home), "BENTOML_DO_NOT_TRACK": "True"})
    seconds = time.perf_counter() - started
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return seconds, peak_kib / 1024 ** 2


def histories(data_dir: Path, count: int, seed: int = 0) -> list[list[str]]:
    """Real users' histories from the generated data, capped at 20 items."""
    by_user: dict[str, list[str]] = defaultdict(list)
    with open(data_dir / "interactions.csv", newline="") as handle:
        for row in csv.DictReader(handle):
            by_user[row["user_id"]].append(row["playlist_id"])
    users = random.Random(seed).sample(sorted(by_user), count)
    return [by_user[user][:20] for user in users]


def serve(home: Path, target: str, workdir: Path, name: str):
    port = free_port()
    return start_server([str(VENV_BIN / "bentoml"), "serve", target, "--host", "127.0.0.1",
                         "--port", str(port)], "/readyz", port, workdir / f"{name}.log",
                        env={"BENTOML_HOME": str(home)})


def report(line: str = "") -> None:
    """Print a line now and keep it for the --out page."""
    print(line, flush=True)
    REPORT.append(line)


REPORT: list[str] = []


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=3000, help="per server and concurrency")
    parser.add_argument("--skip-training", action="store_true")
    parser.add_argument("--out", type=Path, help="also write the figures as a Markdown page")
    args = parser.parse_args()
    report(f"machine: {platform.platform()}, {os.cpu_count()} cores, Python "
           f"{platform.python_version()}, load average at start "
           f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    with tempfile.TemporaryDirectory(prefix="bench-serve-") as tmp:
        workdir = Path(tmp)
        home = workdir / "bentoml"
        if not args.skip_training:
            big = workdir / "big"
            count = generate(big, 100_000, 20_000, seed=1, mean_per_user=11.0)
            seconds, peak_gib = train(big, home, "--model-name", "scale_check")
            report(f"training on {count} interactions (100k users x 20k playlists), "
                   f"evaluation included: {seconds:.1f} s (goal <= 60 s), "
                   f"peak RSS {peak_gib:.2f} GiB (goal <= 4 GiB)")
        catalogue = workdir / "catalogue10k"
        count = generate(catalogue, 40_000, 10_000, seed=2, mean_per_user=12.0)
        seconds, _ = train(catalogue, home, "--no-eval")
        report(f"serving model: 10k playlists, {count} interactions, trained in {seconds:.1f} s")
        bodies = [{"history": history, "k": 10} for history in histories(catalogue, 500)]
        servers = {"recommender": serve(home, ".", workdir, "recommender"),
                   "echo baseline": serve(home, "bench.echo_service:EchoBaseline", workdir,
                                          "echo")}
        try:
            rows = []
            for concurrency in (1, 8):
                for name, server in servers.items():
                    requests = [("POST", f"{server.url}/recommend", body) for body in bodies]
                    asyncio.run(run_load(requests, concurrency, 300, 30))  # warm-up
                    result = asyncio.run(run_load(requests, concurrency, args.requests, 60))
                    rows.append((concurrency, name, result.summary()))
        finally:
            for server in servers.values():
                server.stop()
    report()
    report(f"{'clients':>8} {'server':<15}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}")
    for concurrency, name, s in rows:
        report(f"{concurrency:>8} {name:<15}{s['rps']:>9.0f}{s['p50']:>9.2f}{s['p99']:>9.2f}"
               f"{s['errors']:>8}")
    report()
    for concurrency in (1, 8):
        ours, base = (s for c, _, s in rows if c == concurrency)
        report(f"{concurrency} client(s): recommender p50 is {ours['p50'] / base['p50']:.2f}x the "
               f"echo baseline, throughput {base['rps'] / ours['rps']:.2f}x lower (goal <= 1.2x)")
    report(f"load average at end {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    if args.out:
        args.out.write_text(
            "# Serving and training figures of the Bento\n\n"
            "Generated by `python -m bench.serve --out docs/SERVING.md` (part of "
            "`make benchmarks`); do not edit by hand. One run, each figure next to a baseline "
            "from the same run, all on loopback.\n\n```\n" + "\n".join(REPORT) + "\n```\n")


if __name__ == "__main__":
    main()
