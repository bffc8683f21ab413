"""Serving and training figures for the core, each next to a baseline from the same run.

    python -m bench.serve [--requests 3000] [--sizes 1m,10m] [--data-root DIR]
                          [--out docs/SERVING.md]

1. Training: the whole trainer (`python -m bento.train`) at each size of `bench.ceiling`
   (~1M and ~10M interactions over 100k playlists; `--sizes` takes any of its sizes, e.g.
   `1m,10m,20m`): wall and CPU time, peak RSS and the seconds of each step, against the goals
   (10M: <= 5 min and <= 8 GiB), then the least-squares growth over the sizes.
2. Serving: `/recommend` on a 100k-playlist catalogue through a real `bentoml serve`, against a
   bare BentoML echo service with the same request shape and response type (goal: within 1.3x
   of it), at 1 and 8 concurrent clients. Everything runs on loopback in a throwaway BENTOML_HOME.
"""
from __future__ import annotations

import argparse
import asyncio
import csv
import os
import platform
import random
import shutil
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
import psutil

from bench import ceiling
from bench.loadgen import run_load
from bench.machine import load_text, probe_text
from bento.datagen import generate
from devtools.procs import VENV_BIN, free_port, start_server


GOALS = {"10m": (300, 8)}  # size: (goal seconds, goal GiB), issue 15
CATALOGUE = (200_000, 100_000, 12.0)  # the served model: 100k playlists


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


def worker_cpu(server) -> float:
    """CPU seconds so far of the BentoML worker process serving for a `bentoml serve` (the one
    that runs the service; the arbiter only supervises): both servers are read the same way."""
    workers = [child for child in psutil.Process(server.process.pid).children(recursive=True)
               if "_bentoml_impl.worker.service" in " ".join(child.cmdline())]
    return sum(sum(child.cpu_times()[:2]) for child in workers)


def model_work(home: Path, bodies: list[dict], k: int = 10) -> dict[str, float]:
    """CPU ms per request of the recommender's own work on the served model, in this process
    (no HTTP, no BentoML): what /recommend does beyond the echo, apart from id validation and
    serialising the answer. Best of three passes over the bodies."""
    from bento.recsys.model import ItemItemModel

    store = home / "models" / "playlist_recommender"
    model, _ = ItemItemModel.load(store / (store / "latest").read_text().strip())
    nothing = np.empty(0, dtype=np.int64)
    best = {"scoring and top-k": float("inf"), "explanations": float("inf")}
    for _ in range(3):
        spent = dict.fromkeys(best, 0.0)
        for body in bodies:
            started = time.process_time()
            known, _ = model.known(body["history"])
            items, _, found = model.ranked(known, k, nothing)
            scored = time.process_time()
            model.explain(known, items, found=found)  # as model.answer: the rows gathered once
            spent["scoring and top-k"] += scored - started
            spent["explanations"] += time.process_time() - scored
        best = {name: min(best[name], spent[name] * 1000 / len(bodies)) for name in best}
    return best


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
    parser.add_argument("--data-root", type=Path,
                        help="keep (and reuse) the training sets here (bench.ceiling's layout)")
    args = parser.parse_args()
    report(f"machine: {platform.platform()}, {os.cpu_count()} cores, Python "
           f"{platform.python_version()}, load average at start {load_text()}; {probe_text()}")
    with tempfile.TemporaryDirectory(prefix="bench-serve-") as tmp:
        workdir = Path(tmp)
        home = workdir / "bentoml"
        runs = []
        for size in filter(None, args.sizes.split(",")):
            big = ceiling.dataset(args.data_root or workdir, size)
            runs.append(ceiling.train(big, size, home, "--model-name", "scale_check"))
            run = runs[-1]
            goal_s, goal_gib = GOALS.get(size, (None, None))
            goals = f" (goals <= {goal_s} s, <= {goal_gib} GiB)" if goal_s else ""
            report(f"training on {run.interactions} interactions ({size}), evaluation included: "
                   f"{run.wall:.1f} s wall, {run.cpu:.1f} s CPU, peak RSS {run.peak_gib:.2f} GiB"
                   f"{goals}; {ceiling.step_text(run)}; load average {run.load}")
            if not args.data_root:
                shutil.rmtree(big)
        if len(runs) >= 2:
            for line in ceiling.extrapolate(runs, ceiling.machine_gib()):
                report(f"growth: {line}")
        catalogue = workdir / "catalogue"
        users, playlists, mean = CATALOGUE
        count = generate(catalogue, users, playlists, seed=2, mean_per_user=mean)
        served = ceiling.train(catalogue, "catalogue", home, "--no-eval")
        report(f"serving model: {playlists} playlists, {count} interactions, trained in "
               f"{served.wall:.1f} s")
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
                    before = worker_cpu(server)
                    result = asyncio.run(run_load(requests, concurrency, args.requests, 60))
                    summary = result.summary()
                    summary["cpu"] = (worker_cpu(server) - before) * 1000 / summary["requests"]
                    rows.append((concurrency, name, summary))
        finally:
            for server in servers.values():
                server.stop()
        work = model_work(home, bodies)
    report()
    report(f"{'clients':>8} {'server':<15}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}"
           f"{'worker CPU ms/req':>19}")
    for concurrency, name, s in rows:
        report(f"{concurrency:>8} {name:<15}{s['rps']:>9.0f}{s['p50']:>9.2f}{s['p99']:>9.2f}"
               f"{s['errors']:>8}{s['cpu']:>19.3f}")
    report()
    for concurrency in (1, 8):
        ours, base = (s for c, _, s in rows if c == concurrency)
        report(f"{concurrency} client(s): recommender p50 is {ours['p50'] / base['p50']:.2f}x the "
               f"echo baseline, throughput {base['rps'] / ours['rps']:.2f}x lower (goal <= 1.3x)")
    ours, base = (s for c, _, s in rows if c == 1)
    report("the recommender's own work per request, in process on the same model and histories "
           "(CPU ms): " + ", ".join(f"{name} {ms:.3f}" for name, ms in work.items())
           + f"; its p50 beyond the echo's at 1 client: {ours['p50'] - base['p50']:.3f} ms, "
           f"its worker's CPU per request beyond the echo's: {ours['cpu'] - base['cpu']:.3f} ms")
    report(f"load average at end {load_text()}")
    if args.out:
        args.out.write_text(
            "# Serving and training figures of the Bento\n\n"
            "Generated by `python -m bench.serve --out docs/SERVING.md` (part of "
            "`make benchmarks`); do not edit by hand. One run, each figure next to a baseline "
            "from the same run, all on loopback. The echo takes the same request and answers "
            "with the same response type, empty; beyond it the recommender checks every id "
            "against the shared id rule, scores the catalogue, explains and serialises ten "
            "items: the line before the last gives the model's part of that, timed in "
            "process.\n\n```\n" + "\n".join(REPORT) + "\n```\n")


if __name__ == "__main__":
    main()
