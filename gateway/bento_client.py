"""The Bento over HTTP: one shared keep-alive client, upstream failures as typed errors."""
from __future__ import annotations

import logging
import time
from typing import Any

import httpx

from gateway.observability import REQUEST_ID_HEADER, Metrics, request_id_var

log = logging.getLogger("gateway.bento")


class BentoUnavailable(Exception):
    """The Bento did not answer in time, refused the connection, or failed (-> 503)."""


class BentoRejected(Exception):
    """The Bento answered 4xx: the caller's request was wrong (-> the same status)."""

    def __init__(self, status_code: int, detail: Any):
        self.status_code, self.detail = status_code, detail
        super().__init__(f"bento answered {status_code}: {detail}")


def make_http_client(base_url: str, timeout_seconds: float,
                     transport: httpx.AsyncBaseTransport | None = None) -> httpx.AsyncClient:
    """Connect, read, write and pool waits all bounded, so an outage costs ~one timeout."""
    return httpx.AsyncClient(
        base_url=base_url, transport=transport, timeout=httpx.Timeout(timeout_seconds),
        limits=httpx.Limits(max_connections=100, max_keepalive_connections=20))


def error_detail(response: httpx.Response) -> Any:
    try:
        body = response.json()
    except ValueError:
        return response.text[:500] or response.reason_phrase
    if isinstance(body, dict):
        return body.get("detail") or body.get("error") or body
    return body


class BentoClient:
    def __init__(self, http: httpx.AsyncClient, metrics: Metrics):
        self.http, self.metrics = http, metrics

    async def call(self, method: str, path: str, body: dict | None = None,
                   expect_json: bool = True) -> Any:
        """Send one request with the current request id; map every failure to our errors."""
        endpoint = path.lstrip("/")
        started = time.perf_counter()
        try:
            response = await self.http.request(
                method, path, json=body, headers={REQUEST_ID_HEADER: request_id_var.get()})
        except httpx.TimeoutException as err:
            self._failed(endpoint, "timeout", err)
            raise BentoUnavailable("the recommender (Bento) timed out") from None
        except httpx.HTTPError as err:
            self._failed(endpoint, "unreachable", err)
            raise BentoUnavailable("the recommender (Bento) is unreachable") from None
        finally:
            self.metrics.upstream_latency.labels(endpoint).observe(time.perf_counter() - started)
        if 400 <= response.status_code < 500:
            self.metrics.upstream_errors.labels(endpoint, f"http_{response.status_code}").inc()
            raise BentoRejected(response.status_code, error_detail(response))
        if response.status_code >= 500:
            self._failed(endpoint, f"http_{response.status_code}", error_detail(response))
            raise BentoUnavailable(f"the recommender (Bento) failed with "
                                   f"{response.status_code}")
        if not expect_json:
            return None
        try:
            return response.json()
        except ValueError:
            self._failed(endpoint, "bad_json", response.text[:200])
            raise BentoUnavailable("the recommender (Bento) sent an unreadable answer") from None

    def _failed(self, endpoint: str, kind: str, reason: Any) -> None:
        self.metrics.upstream_errors.labels(endpoint, kind).inc()
        log.warning("bento call failed", extra={"endpoint": endpoint, "kind": kind,
                                                "reason": str(reason)[:300]})

    async def recommend(self, history: list[str], k: int) -> dict:
        return await self.call("POST", "/recommend", {"history": history, "k": k})

    async def similar(self, playlist_id: str, k: int) -> dict:
        return await self.call("POST", "/similar", {"playlist_id": playlist_id, "k": k})

    async def model_info(self) -> dict:
        return await self.call("POST", "/model_info", {})

    async def ready(self) -> None:
        """Raise BentoUnavailable unless the Bento's /readyz answers 200."""
        await self.call("GET", "/readyz", expect_json=False)
