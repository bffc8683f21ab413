"""Recommendation quality and cost: the project's default ("auto") against popularity, a reference
EASE and implicit's ALS, on the sample data, MovieLens-100K, supermarket baskets and 1M synthetic
interactions; plus the whole trainer CLI on the 1M and 10M sets. Writes docs/QUALITY.md and
docs/quality.png.

    .venv/bin/python -m bench.quality            (or: make quality; takes several minutes)

Each (dataset, contender) runs in its own process so its peak RSS (wait4) is its own.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.machine import cpu_model, load_text, probe_text

ROOT = Path(__file__).resolve().parent.parent
DATASETS = ("sample", "ml-100k", "supermarket", "citeulike-a", "ml-100k-all", "synthetic-1m")
CONTENDERS = ("popularity", "bento-auto", "ease-ref", "als")
OUT_MD = ROOT / "docs" / "QUALITY.md"
OUT_PNG = ROOT / "docs" / "quality.png"
OUT_COLD_START = ROOT / "docs" / "COLD_START.md"


def measured(command: list[str], env: dict | None = None) -> tuple[str, float, float]:
    """stdout, wall seconds and peak RSS (MiB) of one child process."""
    started = time.perf_counter()
    child = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, env=env, text=True)
    stdout = child.stdout.read()
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode:
        raise RuntimeError(f"{command} exited {child.returncode}")
    return stdout, time.perf_counter() - started, usage.ru_maxrss / 1024


def worker(dataset: str, contender: str, seed: int) -> None:
    from bench import contenders, datasets

    data = datasets.load(dataset)
    result = contenders.run(contender, data.user_items, data.item_ids, seed)
    print(json.dumps({"describe": data.describe(), **result}))


def trainer_cli(name: str, seed: int) -> dict:
    """`python -m bento.train --data <generated set>` end to end, into a throwaway store."""
    from bench import datasets

    directory = datasets.generated_dir(name)
    with tempfile.TemporaryDirectory() as home:
        env = {**os.environ, "BENTOML_HOME": home, "BENTOML_DO_NOT_TRACK": "True"}
        _, seconds, rss = measured([sys.executable, "-m", "bento.train", "--data",
                                    str(directory), "--seed", str(seed)], env)
    return {"seconds": seconds, "rss_mib": rss}


def signal_results(measured_sets) -> dict:
    """bench.cold_start (citeulike-a), bench.recency and bench.weights (ml-100k; weights also
    on generated play counts), each in its own process."""
    found = {}
    for name, module, dataset in (("cold_start", "bench.cold_start", "citeulike-a"),
                                  ("recency", "bench.recency", "ml-100k"),
                                  ("weights", "bench.weights", "ml-100k")):
        if dataset not in measured_sets:
            continue
        with tempfile.TemporaryDirectory() as scratch:
            out = Path(scratch) / f"{name}.json"
            measured([sys.executable, "-m", module, "--json", str(out)])
            if out.is_file():  # bench.cold_start writes nothing without citeulike-a
                found[name] = json.loads(out.read_text())
                print(f"{module}: {found[name]['wall_seconds']:.0f}s", flush=True)
    return found


def machine() -> str:
    memory = next(int(line.split()[1]) for line in open("/proc/meminfo")
                  if line.startswith("MemTotal")) / 2 ** 20
    return f"{os.cpu_count()} cores ({cpu_model()}), {memory:.0f} GiB RAM, Python " \
           f"{platform.python_version()}, {platform.system()} {platform.release()}; " \
           f"load average at the start (1, 5, 15 min): {load_text()}; {probe_text()}"


def write_pages(results: dict, cli: dict, started_on: str, signals: dict | None) -> None:
    """docs/QUALITY.md and its plot; docs/COLD_START.md from the same cold-start run, so the two
    pages never show different figures."""
    from bench.cold_start import page
    from bench.report import write_report

    write_report(results, cli, started_on, OUT_MD, OUT_PNG, signals)
    written = [OUT_MD, OUT_PNG]
    if signals and "cold_start" in signals:
        OUT_COLD_START.write_text(page(signals["cold_start"]))
        written.append(OUT_COLD_START)
    print("wrote " + ", ".join(str(path.relative_to(ROOT)) for path in written))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--worker", nargs=2, metavar=("DATASET", "CONTENDER"))
    parser.add_argument("--datasets", default=",".join(DATASETS))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-write", action="store_true", help="print only")
    parser.add_argument("--results", type=Path, default=ROOT / "bench" / ".cache" /
                        "quality-results.json", help="figures are kept here as JSON")
    parser.add_argument("--render-only", action="store_true",
                        help="rewrite the page from --results without running anything")
    parser.add_argument("--trainer", default="synthetic-1m,synthetic-10m",
                        help="generated sets to time the whole trainer CLI on ('' for none)")
    args = parser.parse_args(argv)
    if args.worker:
        worker(*args.worker, args.seed)
        return 0
    from bench import datasets

    if args.render_only:
        saved = json.loads(args.results.read_text())
        write_pages(saved["results"], saved["cli"], saved["machine"], saved.get("signals"))
        return 0
    started_on = machine()
    results: dict[str, dict] = {}
    for name in args.datasets.split(","):
        try:
            datasets.load(name)  # fetch and cache outside the measured runs
        except FileNotFoundError as missing:
            print(f"skipping {name}: {missing}", flush=True)
            continue
        results[name] = {}
        for contender in CONTENDERS:
            stdout, wall, rss = measured([sys.executable, "-m", "bench.quality", "--worker",
                                          name, contender, "--seed", str(args.seed)])
            row = json.loads(stdout.strip().splitlines()[-1])
            row.update(wall_seconds=wall, rss_mib=rss)
            results[name][contender] = row
            print(f"{name:<14}{contender:<12}" + (
                row["skipped"] if "skipped" in row else
                f"recall {row['recall']:.4f} ndcg {row['ndcg']:.4f} coverage "
                f"{row['coverage']:.3f} fit {row['fit_seconds']:.1f}s rss {rss:.0f} MiB "
                f"{row['params']}"), flush=True)
    cli = {}
    for name in filter(None, args.trainer.split(",")):
        cli[name] = trainer_cli(name, args.seed)
        print(f"trainer CLI on {name}: {cli[name]['seconds']:.1f}s, "
              f"{cli[name]['rss_mib']:.0f} MiB", flush=True)
    signals = signal_results(results)
    args.results.parent.mkdir(parents=True, exist_ok=True)
    args.results.write_text(json.dumps({"results": results, "cli": cli, "signals": signals,
                                        "machine": started_on}, indent=1))
    if not args.no_write:
        write_pages(results, cli, started_on, signals)
    return 0


if __name__ == "__main__":
    sys.exit(main())
