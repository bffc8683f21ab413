"""Refuse what never deserves an answer early: oversized bodies (JSON 413) and requests for
a Host this gateway does not serve (Starlette's TrustedHostMiddleware)."""
from __future__ import annotations

import json

from starlette.exceptions import HTTPException
from starlette.middleware.trustedhost import TrustedHostMiddleware

# Kubelet probes and Prometheus call these by pod IP, which no host allowlist can name; they
# answer nothing that depends on the Host header.
PROBE_PATHS = frozenset({"/health", "/ready", "/metrics"})


class HostCheckMiddleware:
    """TrustedHostMiddleware (ALLOWED_HOSTS) for every path but the probes."""

    def __init__(self, app, allowed_hosts: list[str]):
        self.app = app
        self.checked = TrustedHostMiddleware(app, allowed_hosts=allowed_hosts)

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and scope["path"] in PROBE_PATHS:
            return await self.app(scope, receive, send)
        await self.checked(scope, receive, send)


class BodyTooLarge(HTTPException):
    """A chunked body grew past the limit while the app was reading it: an HTTPException, so
    FastAPI's body parsing lets it through as the 413 it is rather than a generic 400."""

    def __init__(self, max_bytes: int):
        super().__init__(413, f"request body larger than {max_bytes} bytes")


class BodyLimitMiddleware:
    """Pure ASGI: a declared Content-Length over `max_bytes` is answered at once; a body without
    one is counted as it streams, and the read that crosses the limit raises BodyTooLarge."""

    def __init__(self, app, max_bytes: int):
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = dict(scope["headers"]).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > self.max_bytes:
            return await too_large(send, self.max_bytes)
        seen = 0

        async def counting_receive():
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.max_bytes:
                raise BodyTooLarge(self.max_bytes)
            return message

        await self.app(scope, counting_receive, send)


async def too_large(send, max_bytes: int) -> None:
    body = json.dumps({"detail": f"request body larger than {max_bytes} bytes"}).encode()
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})
