"""A soak with idle connections held open beside it: can idle clients lock working ones out?

    python -m bench.soak_idle [--seconds 60] [--clients 32] [--idle 200] [--direct]

Starts a real `bentoml serve`, the gateway as the image runs it (`python -m gateway.serve`) and
the project's nginx on loopback, opens `--idle` TCP connections to the gateway that never send a
byte (each reopened as soon as the gateway closes it, so that many are open all the time), and
meanwhile sends personal recommendations from `--clients` workers through nginx (`--direct`: to
the gateway itself) for `--seconds`. Prints the working clients' figures and how often the
gateway closed an idle connection. Figures, not a pass/fail: README "Limits" quotes them.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

from bench.gateway_overhead import prepare_model
from bench.load import request_sets
from bench.loadgen import require_loopback, run_load
from devtools.nginx_proc import start_nginx
from devtools.procs import bentoml_serve, free_port, prepare_database, uvicorn_gateway


async def hold_idle(url: str, count: int, stop: asyncio.Event, closed: list[int]) -> None:
    """Keep `count` silent connections open to `url` until `stop`; `closed[0]` counts the ones
    the server closed (each reopened at once)."""
    require_loopback(url)
    parts = urlsplit(url)

    async def one() -> None:
        while not stop.is_set():
            try:
                reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
            except OSError:
                await asyncio.sleep(0.1)
                continue
            read = asyncio.ensure_future(reader.read())
            waiting = asyncio.ensure_future(stop.wait())
            await asyncio.wait({read, waiting}, return_when=asyncio.FIRST_COMPLETED)
            if read.done():
                closed[0] += 1
            for task in (read, waiting):
                task.cancel()
            writer.close()

    await asyncio.gather(*(one() for _ in range(count)))


def refusal_causes(log_text: str) -> dict[str, int]:
    """What the gateway logged as failed Bento calls (by kind) or in-flight refusals."""
    causes: dict[str, int] = {}
    for line in log_text.splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if entry.get("level") in ("warning", "error"):
            cause = f"{entry.get('msg')} {entry.get('kind', '')}".strip()
            causes[cause] = causes.get(cause, 0) + 1
    return causes


async def soak(requests: list, gateway_url: str, args: argparse.Namespace) -> tuple:
    stop, closed = asyncio.Event(), [0]
    holder = asyncio.ensure_future(hold_idle(gateway_url, args.idle, stop, closed))
    await asyncio.sleep(1.0)  # all of them open before the first working request
    started = time.monotonic()
    result = await run_load(requests, args.clients, 10**8, args.seconds)
    elapsed = time.monotonic() - started
    stop.set()
    await holder
    return result, closed[0], elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--idle", type=int, default=200)
    parser.add_argument("--direct", action="store_true", help="load the gateway, not nginx")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="soak-idle-") as workdir:
        workdir = Path(workdir)
        data_dir, home = prepare_model(workdir, None)
        servers = []
        try:
            bento = bentoml_serve(home, free_port(), workdir / "logs" / "bento.log")
            servers.append(bento)
            database_url = f"sqlite:///{workdir}/gateway.db"
            prepare_database(database_url, data_dir)
            gateway = uvicorn_gateway(free_port(), workdir / "logs" / "gateway.log", env={
                "BENTO_URL": bento.url, "DATABASE_URL": database_url, "LOG_LEVEL": "warning"})
            servers.append(gateway)
            nginx = start_nginx(gateway.url, free_port(), workdir / "logs" / "nginx.log")
            servers.append(nginx)
            target = "gateway" if args.direct else "nginx"
            requests = request_sets(bento.url, gateway.url, nginx.url, 10)[target]
            result, closed, elapsed = asyncio.run(soak(requests, gateway.url, args))
            causes = refusal_causes(gateway.log())
        finally:
            for server in reversed(servers):
                server.stop()
    summary = result.summary()
    print(f"{args.seconds:g} s, {args.clients} clients through {target}, {args.idle} idle "
          f"connections to the gateway held open beside them ({elapsed:.1f} s of load):")
    print(f"  {summary['requests']} requests, {summary['errors']} errors, statuses "
          f"{dict(sorted(result.statuses.items()))}, {summary['rps']:.0f} req/s, p50 "
          f"{summary['p50']:.1f} ms, p99 {summary['p99']:.1f} ms")
    print(f"  the gateway closed {closed} idle connections (each reopened at once)")
    print(f"  the gateway's warnings: {causes or 'none'}")


if __name__ == "__main__":
    main()
