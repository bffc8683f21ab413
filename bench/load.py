"""Load through the whole chain, nginx -> gateway -> Bento, next to the Bento alone, same run.

    python -m bench.load [--seconds 10] [--soak 60] [--levels 1,16,32] [--json OUT]
                         [--bento-workers 1] [--gateway-workers 1]

Trains a model on generated sample data in a throwaway dir, starts a real `bentoml serve`, a
real uvicorn gateway and the project's nginx config on loopback, then at each concurrency level
sends, for the same users, the Bento's `POST /recommend` with the user's likes (the baseline),
the gateway's `GET /api/users/{id}/recommendations` directly, and the same through nginx. Ends
with a soak through nginx. Prints a table; `--json` also writes every figure for
bench/benchmarks_doc.py, which renders docs/BENCHMARKS.md (`make benchmarks`).
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import tempfile
import time
from pathlib import Path

import httpx

from bench.gateway_overhead import prepare_model
from bench.loadgen import run_load
from bench.machine import cpu_model, load_text, probe_ms
from devtools.nginx_proc import start_nginx
from devtools.procs import bentoml_serve, free_port, prepare_database, uvicorn_gateway

USERS = 200  # distinct listeners cycled through, so no single cache line answers everything
TARGETS = ("bento", "gateway", "nginx")


def machine() -> dict:
    return {"nproc": os.cpu_count(), "cpu": cpu_model(), "loadavg_start": os.getloadavg(),
            "probe_ms": probe_ms(), "python": platform.python_version(),
            "kernel": platform.release()}


def cpu_seconds(root: int) -> float:
    """CPU time (user + system) of process `root` and all its live descendants (BentoML starts
    its workers in their own sessions, so a process group would miss them)."""
    stats = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # gone meanwhile
            continue
        stats[int(stat.parent.name)] = (int(fields[1]), int(fields[11]) + int(fields[12]))
    tree, ticks = {root}, 0
    for pid in sorted(stats):  # children have higher pids, except after pid wrap-around
        if pid in tree or stats[pid][0] in tree:
            tree.add(pid)
            ticks += stats[pid][1]
    return ticks / os.sysconf("SC_CLK_TCK")


def cpu_snapshot(groups: dict[str, int]) -> dict[str, float]:
    return {"client": time.process_time(),
            **{name: cpu_seconds(pgid) for name, pgid in groups.items()}}


def request_sets(bento_url: str, gateway_url: str, nginx_url: str, k: int) -> dict:
    """The same users' recommendations, asked of each target."""
    with httpx.Client(timeout=30) as client:
        users = [user["id"] for offset in range(0, USERS, 100) for user in client.get(
            f"{gateway_url}/api/users", params={"limit": 100, "offset": offset}).json()["items"]]
        histories = {user_id: [p["id"] for p in client.get(
            f"{gateway_url}/api/users/{user_id}/likes").json()["items"]] for user_id in users}
    path = "/api/users/{}/recommendations?k=" + str(k)
    return {
        "bento": [("POST", f"{bento_url}/recommend", {"history": histories[u], "k": k})
                  for u in users],
        "gateway": [("GET", gateway_url + path.format(u), None) for u in users],
        "nginx": [("GET", nginx_url + path.format(u), None) for u in users],
    }


async def timed_load(requests: list, concurrency: int, total: int, seconds: float,
                     groups: dict[str, int], target: str) -> dict:
    """One load run: latency figures plus each process group's CPU milliseconds per request."""
    before = cpu_snapshot(groups)
    result = await run_load(requests, concurrency, total, seconds)
    after = cpu_snapshot(groups)
    summary = result.summary()
    per_request = 1000 / max(1, summary["requests"])
    return {"target": target, "concurrency": concurrency, **summary,
            "statuses": {str(k): v for k, v in sorted(result.statuses.items())},
            "cpu_ms": {name: round((after[name] - before[name]) * per_request, 3)
                       for name in after}}


async def measure(requests: dict, levels: list[int], seconds: float, soak: float,
                  groups: dict[str, int]) -> dict:
    """Per level: a short warm-up, then each target in turn for `seconds`."""
    rows = []
    for concurrency in levels:
        for target in TARGETS:
            await run_load(requests[target], concurrency, 20 * concurrency, 5)  # warm-up
            rows.append(await timed_load(requests[target], concurrency, 10**7, seconds, groups,
                                         target))
            print_row(rows[-1])
    soak_row = None
    if soak:
        soak_row = await timed_load(requests["nginx"], max(levels), 10**8, soak, groups, "nginx")
        soak_row["seconds"] = soak
        print(f"soak {soak_row['seconds']} s through nginx at {max(levels)} concurrent: "
              f"{soak_row['requests']} requests, {soak_row['errors']} errors, "
              f"statuses {soak_row['statuses']}")
    return {"rows": rows, "soak": soak_row}


def print_row(r: dict) -> None:
    cpu = "  ".join(f"{name} {ms:.2f}" for name, ms in r["cpu_ms"].items())
    print(f"{r['target']:<9}{r['concurrency']:>5}{r['rps']:>9.0f}{r['p50']:>9.2f}"
          f"{r['p95']:>9.2f}{r['p99']:>9.2f}{r['errors']:>8}   {cpu}", flush=True)


def run(args: argparse.Namespace, workdir: Path) -> dict:
    data_dir, home = prepare_model(workdir, None)
    logs = workdir / "logs"
    servers = []
    try:
        bento = bentoml_serve(home, free_port(), logs / "bento.log",
                              env={"BENTO_WORKERS": str(args.bento_workers)})
        servers.append(bento)
        database_url = f"sqlite:///{workdir}/gateway.db"
        prepare_database(database_url, data_dir)
        gateway = uvicorn_gateway(free_port(), logs / "gateway.log", workers=args.gateway_workers,
                                  env={"BENTO_URL": bento.url, "DATABASE_URL": database_url,
                                       "LOG_LEVEL": "warning"})
        servers.append(gateway)
        nginx = start_nginx(gateway.url, free_port(), logs / "nginx.log")
        servers.append(nginx)
        info = machine()
        print(f"{info['nproc']} cores, {info['cpu']}, load average at start "
              f"{load_text(info['loadavg_start'])}")
        print(f"{'target':<9}{'conc':>5}{'req/s':>9}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}"
              f"{'errors':>8}   CPU ms per request by process tree")
        requests = request_sets(bento.url, gateway.url, nginx.url, args.k)
        groups = {"bento": bento.process.pid, "gateway": gateway.process.pid,
                  "nginx": nginx.server.process.pid}
        figures = asyncio.run(measure(requests, args.levels, args.seconds, args.soak, groups))
    finally:
        for server in reversed(servers):
            server.stop()
    info["loadavg_end"] = os.getloadavg()
    return {"machine": info, "config": {
        "seconds": args.seconds, "soak": args.soak, "k": args.k, "users": USERS,
        "bento_workers": args.bento_workers, "gateway_workers": args.gateway_workers,
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}, **figures}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=10.0, help="per target and level")
    parser.add_argument("--soak", type=float, default=60.0, help="0 skips the soak")
    parser.add_argument("--levels", type=lambda text: [int(x) for x in text.split(",")],
                        default=[1, 16, 32])
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--bento-workers", type=int, default=1)
    parser.add_argument("--gateway-workers", type=int, default=1)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="load-bench-") as workdir:
        figures = run(args, Path(workdir))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)  # var/ is not in a clean clone
        args.json.write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
