"""The single-machine ceiling: the whole trainer's time and peak memory as the data grows.

    python -m bench.ceiling [--sizes 1m,10m] [--data-root DIR]

Each size is `bento.datagen` data with 10 likes per listener on average over a fixed
100,000-playlist catalogue (`10m`: 1M listeners, ~9.4M interactions). For each, the whole
trainer (`python -m bento.train --data DIR`: load and validate, holdout, settings search,
evaluation, final fit, save to a throwaway BENTOML_HOME) runs as a child process: its wall
time, CPU time (user + sys), peak RSS (wait4) and the seconds of each step (the trainer's
`[  12.3s]` step marks), with the load average, since a shared machine inflates the times.
Then a least-squares line for peak RSS and for CPU time over the sizes, and what they predict:
the largest size this machine's memory holds, and where a 16-core / 64 GiB node stops (memory,
and the 2-hour retrain window). `--data-root DIR` keeps the generated data in DIR/<size> and
reuses it.
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parent.parent
PLAYLISTS, MEAN_PER_USER = 100_000, 10.0
SIZES = {"1m": 100_000, "10m": 1_000_000, "20m": 2_000_000, "30m": 3_000_000,
         "50m": 5_000_000}  # listeners
GIB = 2 ** 30
NODE_GIB, NODE_USABLE = 64, 0.8          # a typical node, and the share a trainer pod may use
RETRAIN_WINDOW_S = 7200                  # the retrain CronJob's activeDeadlineSeconds
STEP = re.compile(r"^\[\s*([\d.]+)s, cpu\s*([\d.]+)s\] (\S+)")  # the trainer's step marks
SEARCH = "search"
STEPS = {"holdout": "loaded", SEARCH: "choosing", "evaluation": "evaluating",
         "final fit + save": "fitting"}  # step: the first word of the mark that starts it


@dataclass
class Run:
    size: str
    interactions: int
    wall: float
    cpu: float
    peak_gib: float
    steps: dict[str, tuple[float, float]]  # step: (wall, CPU) seconds
    load: str


def load_average() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def dataset(root: Path, size: str) -> Path:
    """DIR/<size>, generated (bento.datagen, seed 0) unless it is already there."""
    out = root / size
    if not (out / "interactions.csv").is_file():
        subprocess.run([sys.executable, "-m", "bento.datagen", "--out", str(out), "--users",
                        str(SIZES[size]), "--playlists", str(PLAYLISTS), "--mean-per-user",
                        str(MEAN_PER_USER)], cwd=REPO_ROOT, check=True, capture_output=True)
    return out


def step_seconds(stderr: str, wall: float, cpu: float) -> dict[str, tuple[float, float]]:
    """(wall, CPU) seconds of each step, from the marks: a step lasts until the next starts."""
    starts = {"load": (0.0, 0.0)}
    for line in stderr.splitlines():
        match = STEP.match(line)
        for name, word in STEPS.items():
            if match and match.group(3) == word:
                starts[name] = (float(match.group(1)), float(match.group(2)))
    ordered = sorted(starts.items(), key=lambda item: item[1])
    ends = [start for _, start in ordered[1:]] + [(wall, cpu)]
    return {name: (end[0] - start[0], end[1] - start[1])
            for (name, start), end in zip(ordered, ends)}


def train(data: Path, size: str, home: Path, *extra: str) -> Run:
    """The trainer CLI as a child process, measured by wait4."""
    load = load_average()
    started = time.perf_counter()
    with tempfile.TemporaryFile("w+") as stderr:
        child = subprocess.Popen([sys.executable, "-m", "bento.train", "--data", str(data),
                                  *extra], cwd=REPO_ROOT, stdout=subprocess.DEVNULL,
                                 stderr=stderr, env={**os.environ, "BENTOML_HOME": str(home),
                                                     "BENTOML_DO_NOT_TRACK": "True"})
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - started
        stderr.seek(0)
        log = stderr.read()
    if os.waitstatus_to_exitcode(status):
        raise RuntimeError(f"trainer on {data} failed:\n{log[-3000:]}")
    interactions = sum(1 for _ in open(data / "interactions.csv", "rb")) - 1
    cpu = usage.ru_utime + usage.ru_stime
    return Run(size, interactions, wall, cpu, usage.ru_maxrss * 1024 / GIB,
               step_seconds(log, wall, cpu), f"{load} -> {load_average()}")


def measure(sizes: list[str], root: Path) -> list[Run]:
    runs = []
    with tempfile.TemporaryDirectory(prefix="bench-ceiling-home-") as home:
        for size in sizes:
            runs.append(train(dataset(root, size), size, Path(home)))
            shutil.rmtree(Path(home) / "models", ignore_errors=True)
            print_run(runs[-1])
    return runs


def step_text(run: Run) -> str:
    """Each step's wall (CPU) seconds, for bench.ceiling's and bench.serve's reports."""
    return ", ".join(f"{name} {wall:.0f} s ({cpu:.0f} s CPU)"
                     for name, (wall, cpu) in run.steps.items())


def describe(run: Run) -> str:
    return (f"{run.size}: {run.interactions:,} interactions, wall {run.wall:.1f} s, CPU "
            f"{run.cpu:.1f} s, peak RSS {run.peak_gib:.2f} GiB; {step_text(run)}; load average "
            f"{run.load}")


def print_run(run: Run) -> None:
    print(describe(run), flush=True)


def line_fit(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """(intercept, slope) of the least-squares line."""
    slope, intercept = np.polyfit(x, y, 1)
    return float(intercept), float(slope)


def extrapolate(runs: list[Run], machine_gib: float) -> list[str]:
    """The fitted lines and what they predict, as printable lines. Time is predicted from CPU
    seconds outside the settings search (its grid, or --time-budget where given) plus that
    search's wall time: on a shared machine wall time is mostly waiting for a core, and
    outside the search the trainer runs on one core (BLAS and implicit aside)."""
    n = np.array([run.interactions for run in runs], dtype=float)
    base, per = line_fit(n, np.array([run.peak_gib for run in runs]) * GIB)
    search = float(np.mean([run.steps.get(SEARCH, (0.0, 0.0))[0] for run in runs]))
    rest0, rest1 = line_fit(n, np.array([run.cpu - run.steps.get(SEARCH, (0.0, 0.0))[1]
                                         for run in runs]))

    def hours(size: float) -> float:
        return (search + rest0 + rest1 * size) / 3600

    mine = (NODE_USABLE * machine_gib * GIB - base) / per
    node = (NODE_USABLE * NODE_GIB * GIB - base) / per
    window = (RETRAIN_WINDOW_S - search - rest0) / rest1
    return [
        f"peak RSS = {base / 2**20:,.0f} MiB + {per:,.0f} bytes x interactions",
        f"time = the settings search ({search:,.0f} s wall here, its grid or --time-budget) + "
        f"{rest0:,.1f} s + {rest1 * 1e6:,.2f} us x interactions of CPU (everything else)",
        f"this machine ({machine_gib:.0f} GiB, {NODE_USABLE:.0%} usable): memory for about "
        f"{mine / 1e6:,.0f}M interactions, about {hours(mine) * 60:,.0f} min unloaded",
        f"a 16-core / {NODE_GIB} GiB node: memory stops it at about {node / 1e6:,.0f}M "
        f"interactions (about {hours(node):,.1f} h); the {RETRAIN_WINDOW_S / 3600:.0f}-hour "
        f"retrain window at about {window / 1e6:,.0f}M",
    ]


def machine_gib(meminfo: Path = Path("/proc/meminfo")) -> float:
    for line in meminfo.read_text().splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) * 1024 / GIB
    raise RuntimeError("no MemTotal in /proc/meminfo")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1m,10m", help=f"of {', '.join(SIZES)}")
    parser.add_argument("--data-root", type=Path, help="keep (and reuse) the data here")
    args = parser.parse_args(argv)
    sizes = [size for size in args.sizes.split(",") if size]
    unknown = set(sizes) - set(SIZES)
    if unknown:
        parser.error(f"unknown sizes {sorted(unknown)}; choose from {list(SIZES)}")
    print(f"{os.cpu_count()} cores, {machine_gib():.0f} GiB; {PLAYLISTS:,} playlists, "
          f"{MEAN_PER_USER:g} likes per listener on average", flush=True)
    if args.data_root:
        runs = measure(sizes, args.data_root)
    else:
        with tempfile.TemporaryDirectory(prefix="bench-ceiling-data-") as root:
            runs = measure(sizes, Path(root))
    if len(runs) >= 2:
        print("\n".join(extrapolate(runs, machine_gib())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
