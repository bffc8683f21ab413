"""A bounded asyncio load generator for loopback HTTP servers (count- and time-limited).

Used by the benchmarks: `await run_load(requests, concurrency, total, max_seconds)` where each
request is (method, url, json_body). Refuses any host that is not loopback. The client is
aiohttp: on a 2-core machine the load generator shares the CPU with the servers it measures,
and aiohttp spends about a third of httpx's CPU per request (bench/load.py prints its share).
"""
from __future__ import annotations

import asyncio
import ipaddress
import statistics
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import aiohttp


@dataclass
class LoadResult:
    latencies_ms: list[float] = field(default_factory=list)
    errors: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    elapsed: float = 0.0

    def summary(self) -> dict[str, float]:
        ok = sorted(self.latencies_ms) or [float("nan")]

        def pct(q: float) -> float:
            return ok[min(len(ok) - 1, int(q * len(ok)))]

        return {"requests": len(self.latencies_ms) + self.errors, "errors": self.errors,
                "rps": len(self.latencies_ms) / self.elapsed if self.elapsed else 0.0,
                "p50": statistics.median(ok), "p95": pct(0.95), "p99": pct(0.99)}


def require_loopback(url: str) -> None:
    host = urlsplit(url).hostname or ""
    if host != "localhost" and not ipaddress.ip_address(host).is_loopback:
        raise ValueError(f"refusing to send load to non-loopback host {host!r}")


async def run_load(requests: list[tuple[str, str, object]], concurrency: int, total: int,
                   max_seconds: float, ok_statuses: tuple[int, ...] = (200,)) -> LoadResult:
    """Send `total` requests (cycling through `requests`) from `concurrency` workers, stopping
    early after `max_seconds`. A status outside `ok_statuses` or a transport error is an error."""
    for _, url, _ in requests:
        require_loopback(url)
    result = LoadResult()
    counter = iter(range(total))
    deadline = time.perf_counter() + max_seconds
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector,
                                     timeout=aiohttp.ClientTimeout(total=10.0)) as client:
        async def worker() -> None:
            for index in counter:
                if time.perf_counter() > deadline:
                    return
                method, url, body = requests[index % len(requests)]
                started = time.perf_counter()
                try:
                    async with client.request(method, url, json=body) as response:
                        await response.read()
                        status = response.status
                except (aiohttp.ClientError, asyncio.TimeoutError):
                    status = 0
                result.statuses[status] = result.statuses.get(status, 0) + 1
                if status in ok_statuses:
                    result.latencies_ms.append((time.perf_counter() - started) * 1000)
                else:
                    result.errors += 1

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        result.elapsed = time.perf_counter() - started
    return result
