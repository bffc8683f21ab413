"""The Bento over HTTP: one shared keep-alive client, upstream failures as typed errors.

What the gateway answers for each thing the Bento can answer (`gateway_upstream_errors_total`
counts every row but the first by endpoint and `kind`):

| the Bento                                 | the gateway                             | kind       |
|-------------------------------------------|-----------------------------------------|------------|
| 2xx with JSON                             | the route's answer                      |            |
| 400, 404, 413, 422 (the ids, sizes asked) | the same status and the Bento's detail  | http_NNN   |
| 429 (BentoML at `max_concurrency`), 503   | 503, Retry-After: 1; /ready says so     | overloaded |
|                                           | after OVERLOAD_STREAK of them in a row  |            |
| any other 4xx or 5xx (504: its timeout)   | 503, Retry-After: 5                     | http_NNN   |
| 2xx that is not JSON                      | 503, Retry-After: 5                     | bad_json   |
| no answer in BENTO_TIMEOUT_SECONDS        | 503, Retry-After: 5                     | timeout    |
| refused or broken connection              | 503, Retry-After: 5                     | unreachable|

The transport is aiohttp: on this path it costs about a third of the CPU of httpx per call
(bench/gateway_overhead.py), and the gateway's CPU per request is what bounds its throughput.
"""
from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any, Awaitable, Callable

import aiohttp

from gateway.observability import REQUEST_ID_HEADER, Metrics, request_id_var

log = logging.getLogger("gateway.bento")
# Below the Bento's (uvicorn's) 5 s keep-alive, so we never reuse a socket it is closing.
KEEPALIVE_SECONDS = 3.0


# Bento answers about the request itself, passed on to the caller.
PASSED_THROUGH = frozenset({400, 404, 413, 422})
# BentoML answers 429 past its max_concurrency (bento/service.py); 503 is the usual "busy".
OVERLOADED = frozenset({429, 503})
# /ready reports the Bento overloaded after this many overloaded answers in a row, until one
# succeeds or none has come for OVERLOAD_WINDOW_SECONDS.
OVERLOAD_STREAK = 5
OVERLOAD_WINDOW_SECONDS = 30.0


class BentoUnavailable(Exception):
    """The Bento did not answer in time, refused the connection, or failed (-> 503)."""

    retry_after = 5


class BentoOverloaded(BentoUnavailable):
    """The Bento is at its limit of requests in flight (-> 503, retry soon)."""

    retry_after = 1


class BentoRejected(Exception):
    """The Bento refused the request itself (PASSED_THROUGH -> the same status)."""

    def __init__(self, status_code: int, detail: Any):
        self.status_code, self.detail = status_code, detail
        super().__init__(f"bento answered {status_code}: {detail}")


class UpstreamTimeout(Exception):
    """The transport gave up waiting (connect, send or read)."""


class UpstreamUnreachable(Exception):
    """The transport could not connect, or the connection broke."""


# (method, path, json body or None, headers) -> (status, body bytes); raises the two above.
Transport = Callable[[str, str, bytes | None, dict[str, str]], Awaitable[tuple[int, bytes]]]


class AiohttpTransport:
    """A keep-alive connection pool to `base_url`; every call bounded by `timeout_seconds`."""

    def __init__(self, base_url: str, timeout_seconds: float, max_connections: int = 100):
        self.base_url = base_url.rstrip("/")
        self.timeout = aiohttp.ClientTimeout(total=timeout_seconds)
        self.max_connections = max_connections
        self.session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> AiohttpTransport:
        connector = aiohttp.TCPConnector(limit=self.max_connections,
                                         keepalive_timeout=KEEPALIVE_SECONDS)
        self.session = aiohttp.ClientSession(connector=connector, timeout=self.timeout,
                                             skip_auto_headers=("User-Agent",))
        return self

    async def __aexit__(self, *_exc) -> None:
        await self.session.close()

    async def __call__(self, method: str, path: str, body: bytes | None,
                       headers: dict[str, str]) -> tuple[int, bytes]:
        try:
            async with self.session.request(method, self.base_url + path, data=body,
                                            headers=headers) as response:
                return response.status, await response.read()
        except asyncio.TimeoutError as err:
            raise UpstreamTimeout(str(err) or "timed out") from None
        except aiohttp.ClientError as err:
            raise UpstreamUnreachable(str(err) or type(err).__name__) from None


def error_detail(status: int, content: bytes) -> Any:
    try:
        body = json.loads(content)
    except ValueError:
        return content.decode("utf-8", "replace")[:500] or f"HTTP {status}"
    if isinstance(body, dict):
        return body.get("detail") or body.get("error") or body
    return body


class BentoClient:
    def __init__(self, transport: Transport, metrics: Metrics, clock=time.monotonic):
        self.transport, self.metrics, self.clock = transport, metrics, clock
        self.overload_streak, self.last_overload = 0, 0.0

    def overloaded(self) -> bool:
        """Whether the Bento has been answering "overloaded" lately, and only that."""
        return (self.overload_streak >= OVERLOAD_STREAK
                and self.clock() - self.last_overload < OVERLOAD_WINDOW_SECONDS)

    async def call(self, method: str, path: str, body: dict | None = None,
                   expect_json: bool = True, probe: bool = False) -> Any:
        """Send one request with the current request id; map every failure to our errors (a
        `probe` succeeds past max_concurrency too, so it does not end an overload streak)."""
        endpoint = path.lstrip("/")
        headers = {REQUEST_ID_HEADER: request_id_var.get()}
        content = None
        if body is not None:
            content = json.dumps(body, separators=(",", ":")).encode()
            headers["content-type"] = "application/json"
        started = time.perf_counter()
        try:
            status, payload = await self.transport(method, path, content, headers)
        except UpstreamTimeout as err:
            self._failed(endpoint, "timeout", err)
            raise BentoUnavailable("the recommender (Bento) timed out") from None
        except UpstreamUnreachable as err:
            self._failed(endpoint, "unreachable", err)
            raise BentoUnavailable("the recommender (Bento) is unreachable") from None
        finally:
            self.metrics.upstream_latency.labels(endpoint).observe(time.perf_counter() - started)
        if status in OVERLOADED:
            self.overload_streak, self.last_overload = self.overload_streak + 1, self.clock()
            self._failed(endpoint, "overloaded", error_detail(status, payload))
            raise BentoOverloaded(f"the recommender (Bento) is overloaded ({status})")
        if status in PASSED_THROUGH:
            self.metrics.upstream_errors.labels(endpoint, f"http_{status}").inc()
            raise BentoRejected(status, error_detail(status, payload))
        if status >= 300:
            self._failed(endpoint, f"http_{status}", error_detail(status, payload))
            raise BentoUnavailable(f"the recommender (Bento) failed with {status}")
        if not probe:
            self.overload_streak = 0
        if not expect_json:
            return None
        try:
            return json.loads(payload)
        except ValueError:
            self._failed(endpoint, "bad_json", payload[:200])
            raise BentoUnavailable("the recommender (Bento) sent an unreadable answer") from None

    def _failed(self, endpoint: str, kind: str, reason: Any) -> None:
        self.metrics.upstream_errors.labels(endpoint, kind).inc()
        log.warning("bento call failed", extra={"endpoint": endpoint, "kind": kind,
                                                "reason": str(reason)[:300]})

    async def recommend(self, history: list[str], k: int, exclude: list[str] = (),
                        tags: list[str] = (), exclude_tags: list[str] = (),
                        history_times: list[float | None] = ()) -> dict:
        """`history_times`: when each history id was liked (None: unknown), sent only when
        one of them is known."""
        body = {"history": history, "k": k}
        if any(liked_at is not None for liked_at in history_times):
            body["history_times"] = list(history_times)
        for key, values in (("exclude", exclude), ("tags", tags), ("exclude_tags", exclude_tags)):
            if values:
                body[key] = list(values)
        return await self.call("POST", "/recommend", body)

    async def similar(self, playlist_id: str, k: int, exclude: list[str] = ()) -> dict:
        body = {"playlist_id": playlist_id, "k": k}
        if exclude:
            body["exclude"] = list(exclude)
        return await self.call("POST", "/similar", body)

    async def model_info(self) -> dict:
        return await self.call("POST", "/model_info", {})

    async def ready(self) -> None:
        """Raise BentoUnavailable unless the Bento's /readyz answers 200 (BentoML answers it
        past max_concurrency too) and its recent answers were not all "overloaded"."""
        await self.call("GET", "/readyz", expect_json=False, probe=True)
        if self.overloaded():
            raise BentoOverloaded(f"overloaded: its last {self.overload_streak} answers were "
                                  "429 or 503")
