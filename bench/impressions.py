"""The gateway's recommendations throughput with impressions recorded vs not, in one run.

    python -m bench.impressions [--clients 16] [--seconds 8] [--rounds 5] [--data DIR]

One real `bentoml serve`, two real uvicorn gateways over copies of the same database: one with
IMPRESSIONS_ENABLED=true (the default), one with it false, each warmed up for 2 s. Each round
runs both, the one going first alternating, so machine noise and drift hit both alike; prints
each round, the median of the rounds' ratios on/off (target >= 0.9: recording stays off the
request path, written in batches by a background task) and each gateway's CPU milliseconds per
request, which noise on this shared machine moves far less than throughput.
"""
from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import tempfile
from pathlib import Path

import httpx

from bench.gateway_overhead import prepare_model
from bench.load import cpu_seconds
from bench.loadgen import run_load
from devtools.procs import bentoml_serve, free_port, prepare_database, uvicorn_gateway


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=8.0, help="per round")
    parser.add_argument("--rounds", type=int, default=5, help="per setting")
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--data", type=Path, default=None)
    return parser.parse_args(argv)


def run(args: argparse.Namespace, workdir: Path) -> dict[str, dict[str, list[float]]]:
    data_dir, home = prepare_model(workdir, args.data)
    logs = workdir / "logs"
    bento = bentoml_serve(home, free_port(), logs / "bento.log")
    gateways = {}
    try:
        first = workdir / "off.db"
        prepare_database(f"sqlite:///{first}", data_dir)
        shutil.copy(first, workdir / "on.db")
        for setting in ("off", "on"):
            gateways[setting] = uvicorn_gateway(free_port(), logs / f"gateway-{setting}.log", env={
                "BENTO_URL": bento.url, "DATABASE_URL": f"sqlite:///{workdir / setting}.db",
                "LOG_LEVEL": "warning", "IMPRESSIONS_ENABLED": str(setting == "on").lower()})
        users = [u["id"] for u in httpx.get(f"{gateways['on'].url}/api/users",
                                            params={"limit": args.users}, timeout=10)
                 .json()["items"]]
        figures = {setting: {"rps": [], "cpu_ms": []} for setting in ("off", "on")}
        requests_to = {setting: [("GET", f"{server.url}/api/users/{user}/recommendations"
                                         f"?k={args.k}", None) for user in users]
                       for setting, server in gateways.items()}
        for requests in requests_to.values():  # warm-up, not counted: caches, connection pools
            asyncio.run(run_load(requests, args.clients, 10**9, 2.0))
        for round_number in range(args.rounds):
            # Which goes first alternates, so a drift within a round favours neither.
            for setting in ("off", "on") if round_number % 2 == 0 else ("on", "off"):
                requests = requests_to[setting]
                pid = gateways[setting].process.pid
                before = cpu_seconds(pid)
                result = asyncio.run(run_load(requests, args.clients, 10**9, args.seconds))
                summary = result.summary()
                if summary["errors"]:
                    raise SystemExit(f"{setting}: {summary['errors']} errors {result.statuses}")
                # The flusher writes every IMPRESSIONS_FLUSH_MS, so its CPU lands in the round.
                cpu_ms = 1000 * (cpu_seconds(pid) - before) / len(result.latencies_ms)
                figures[setting]["rps"].append(summary["rps"])
                figures[setting]["cpu_ms"].append(cpu_ms)
                print(f"round {round_number + 1} impressions {setting:>3}: "
                      f"{summary['rps']:7.1f} req/s  p50 {summary['p50']:.1f} ms  "
                      f"p99 {summary['p99']:.1f} ms  gateway CPU {cpu_ms:.2f} ms/request",
                      flush=True)
        written = httpx.get(f"{gateways['on'].url}/api/metrics/online", timeout=10).json()
        print(f"impressions recorded (signed-in, today): "
              f"{sum(row['impressions'] for row in written['by_day'])}")
        return figures
    finally:
        for server in gateways.values():
            server.stop()
        bento.stop()


def main(argv=None) -> None:
    args = parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-impressions-") as workdir:
        figures = run(args, Path(workdir))
    on, off = figures["on"], figures["off"]
    # Each round's "on" against its "off": the pair ran back to back on the same machine.
    ratio = statistics.median(a / b for a, b in zip(on["rps"], off["rps"]))
    cpu_on, cpu_off = statistics.median(on["cpu_ms"]), statistics.median(off["cpu_ms"])
    print(f"\n{args.clients} clients, {args.rounds} rounds each: impressions off "
          f"{statistics.median(off['rps']):.1f} req/s, on {statistics.median(on['rps']):.1f} "
          f"req/s (medians); median ratio on/off of paired rounds {ratio:.2f} (target >= 0.90)")
    print(f"gateway CPU per request (median): off {cpu_off:.2f} ms, on {cpu_on:.2f} ms, "
          f"recording adds {cpu_on - cpu_off:+.2f} ms ({cpu_on / cpu_off - 1:+.0%})")


if __name__ == "__main__":
    main()
