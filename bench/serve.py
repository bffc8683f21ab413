"""Serving and training figures for the core, each next to a baseline from the same run.

    python -m bench.serve [--requests 3000] [--sizes 1m,10m] [--out docs/SERVING.md]

1. Training: `python -m bento.train` on ~1M synthetic interactions (100k users x 20k playlists,
   goals <= 60 s and <= 4 GiB) and ~10M (1M users x 100k playlists, goals <= 5 min and
   <= 8 GiB): wall time and peak RSS of the trainer process, so time and memory growth show.
2. Serving: `/recommend` on a 100k-playlist catalogue through a real `bentoml serve`, against a
   bare BentoML echo service with the same request shape (goal: within 1.3x of it), at 1 and 8
   concurrent clients. Everything runs on loopback in a throwaway BENTOML_HOME.
"""
from __future__ import annotations

import argparse
import asyncio
import csv
import os
import platform
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from bench.loadgen import run_load
from bento.datagen import generate
from devtools.procs import REPO_ROOT, VENV_BIN, free_port, start_server


# name: (users, playlists, mean interactions per user, goal seconds, goal GiB)
SIZES = {"1m": (100_000, 20_000, 11.0, 60, 4), "10m": (1_000_000, 100_000, 10.0, 300, 8)}
CATALOGUE = (200_000, 100_000, 12.0)  # the served model: 100k playlists


def train(data_dir: Path, home: Path, *extra: str) -> tuple[float, float]:
    """Run the trainer CLI as a child process: (seconds, its own peak RSS in GiB, by wait4)."""
    started = time.perf_counter()
    child = subprocess.Popen([sys.executable, "-m", "bento.train", "--data", str(data_dir),
                              *extra], cwd=REPO_ROOT, stdout=subprocess.DEVNULL,
                             env={**os.environ, "BENTOML_HOME": str(home),
                                  "BENTOML_DO_NOT_TRACK": "True"})
    _, status, usage = os.wait4(child.pid, 0)
    if os.waitstatus_to_exitcode(status):
        raise RuntimeError(f"trainer on {data_dir} failed")
    return time.perf_counter() - started, usage.ru_maxrss / 1024 ** 2


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
    parser.add_argument("--sizes", default="1m,10m", help="training sets to time ('' for none)")
    parser.add_argument("--out", type=Path, help="also write the figures as a Markdown page")
    args = parser.parse_args()
    report(f"machine: {platform.platform()}, {os.cpu_count()} cores, Python "
           f"{platform.python_version()}, load average at start "
           f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    with tempfile.TemporaryDirectory(prefix="bench-serve-") as tmp:
        workdir = Path(tmp)
        home = workdir / "bentoml"
        for size in filter(None, args.sizes.split(",")):
            users, playlists, mean, goal_s, goal_gib = SIZES[size]
            big = workdir / f"train-{size}"
            count = generate(big, users, playlists, seed=1, mean_per_user=mean)
            seconds, peak_gib = train(big, home, "--model-name", "scale_check")
            report(f"training on {count} interactions ({users} users x {playlists} playlists), "
                   f"evaluation included: {seconds:.1f} s (goal <= {goal_s} s), "
                   f"peak RSS {peak_gib:.2f} GiB (goal <= {goal_gib} GiB)")
            shutil.rmtree(big)
        catalogue = workdir / "catalogue"
        users, playlists, mean = CATALOGUE
        count = generate(catalogue, users, playlists, seed=2, mean_per_user=mean)
        seconds, _ = train(catalogue, home, "--no-eval")
        report(f"serving model: {playlists} playlists, {count} interactions, trained in "
               f"{seconds:.1f} s")
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
               f"echo baseline, throughput {base['rps'] / ours['rps']:.2f}x lower (goal <= 1.3x)")
    report(f"load average at end {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    if args.out:
        args.out.write_text(
            "# Serving and training figures of the Bento\n\n"
            "Generated by `python -m bench.serve --out docs/SERVING.md` (part of "
            "`make benchmarks`); do not edit by hand. One run, each figure next to a baseline "
            "from the same run, all on loopback.\n\n```\n" + "\n".join(REPORT) + "\n```\n")


if __name__ == "__main__":
    main()
