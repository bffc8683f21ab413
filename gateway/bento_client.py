"""The Bento over HTTP: one shared keep-alive client, upstream failures as typed errors.

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


class BentoUnavailable(Exception):
    """The Bento did not answer in time, refused the connection, or failed (-> 503)."""


class BentoRejected(Exception):
    """The Bento answered 4xx: the caller's request was wrong (-> the same status)."""

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
    def __init__(self, transport: Transport, metrics: Metrics):
        self.transport, self.metrics = transport, metrics

    async def call(self, method: str, path: str, body: dict | None = None,
                   expect_json: bool = True) -> Any:
        """Send one request with the current request id; map every failure to our errors."""
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
        if 400 <= status < 500:
            self.metrics.upstream_errors.labels(endpoint, f"http_{status}").inc()
            raise BentoRejected(status, error_detail(status, payload))
        if status >= 500:
            self._failed(endpoint, f"http_{status}", error_detail(status, payload))
            raise BentoUnavailable(f"the recommender (Bento) failed with {status}")
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
        """Raise BentoUnavailable unless the Bento's /readyz answers 200."""
        await self.call("GET", "/readyz", expect_json=False)
