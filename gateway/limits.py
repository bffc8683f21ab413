"""Refuse requests for a Host this gateway does not serve (Starlette's TrustedHostMiddleware);
oversized bodies are refused by the shared `datarules.bodylimit`."""
from __future__ import annotations

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
