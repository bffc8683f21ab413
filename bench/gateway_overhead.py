"""How much the gateway hop adds over calling the Bento directly, measured in the same run.

    python -m bench.gateway_overhead [--requests 2000] [--data DIR] [--bentoml-home DIR]

Starts a real `bentoml serve` and a real uvicorn gateway on loopback, then alternates identical
recommendation requests: the Bento's POST /recommend with a user's history, and the gateway's
GET /api/users/{id}/recommendations for the same user (which reads the history from the
database, calls the Bento and enriches the items). Prints p50/p99 of both and the difference.
Without --bentoml-home it generates the sample data and trains a model in a temp dir first.
"""
from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from devtools.procs import bentoml_serve, free_port, prepare_database, uvicorn_gateway


def percentile(samples: list[float], q: float) -> float:
    return statistics.quantiles(samples, n=1000, method="inclusive")[int(q * 10) - 1]


def prepare_model(workdir: Path, data_dir: Path | None) -> tuple[Path, Path]:
    """Sample data and a trained model in a throwaway BENTOML_HOME."""
    if data_dir is None:
        data_dir = workdir / "data"
        subprocess.run([sys.executable, "-m", "bento.datagen", "--out", str(data_dir),
                        "--seed", "0"], check=True)
    home = workdir / "bentoml"
    subprocess.run([sys.executable, "-m", "bento.train", "--data", str(data_dir), "--no-eval"],
                   check=True, env={"BENTOML_HOME": str(home), "BENTOML_DO_NOT_TRACK": "True",
                                    "PATH": "/usr/bin:/bin"})
    return data_dir, home


def measure(args: argparse.Namespace, workdir: Path) -> None:
    data_dir, home = (args.data, args.bentoml_home) if args.bentoml_home else \
        prepare_model(workdir, args.data)
    logs = workdir / "logs"
    bento = bentoml_serve(home, free_port(), logs / "bento.log")
    database_url = f"sqlite:///{workdir}/gateway.db"
    prepare_database(database_url, data_dir)
    gateway = uvicorn_gateway(free_port(), logs / "gateway.log", env={
        "BENTO_URL": bento.url, "DATABASE_URL": database_url, "LOG_LEVEL": "warning"})
    try:
        with httpx.Client(timeout=10) as client:
            user_id = client.get(f"{gateway.url}/api/users").json()["items"][0]["id"]
            history = [p["id"] for p in
                       client.get(f"{gateway.url}/api/users/{user_id}/likes").json()["items"]]
            direct = ("POST", f"{bento.url}/recommend", {"history": history, "k": args.k})
            via_gateway = ("GET", f"{gateway.url}/api/users/{user_id}/recommendations"
                                  f"?k={args.k}", None)
            timings: dict[str, list[float]] = {"bento direct": [], "via gateway": []}
            for rounds, record in ((args.warmup, False), (args.requests, True)):
                for _ in range(rounds):
                    for name, (method, url, body) in zip(timings, (direct, via_gateway)):
                        started = time.perf_counter()
                        client.request(method, url, json=body).raise_for_status()
                        if record:
                            timings[name].append((time.perf_counter() - started) * 1000)
    finally:
        gateway.stop()
        bento.stop()
    print(f"user {user_id} with {len(history)} likes, k={args.k}, "
          f"{args.requests} sequential requests each, interleaved, keep-alive")
    print(f"{'path':<16}{'p50 ms':>10}{'p99 ms':>10}{'req/s':>10}")
    for name, samples in timings.items():
        print(f"{name:<16}{percentile(samples, 50):>10.2f}{percentile(samples, 99):>10.2f}"
              f"{1000 / statistics.mean(samples):>10.0f}")
    overhead = percentile(timings["via gateway"], 50) - percentile(timings["bento direct"], 50)
    print(f"gateway hop adds {overhead:.2f} ms at p50 (goal: <= ~1 ms)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--warmup", type=int, default=200)
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--data", type=Path, help="data dir (default: generated sample data)")
    parser.add_argument("--bentoml-home", type=Path,
                        help="a BENTOML_HOME holding playlist_recommender trained on --data")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="gateway-bench-") as workdir:
        measure(args, Path(workdir))


if __name__ == "__main__":
    main()
