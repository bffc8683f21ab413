"""Who is on the other end of the socket, kept apart from who the request says it is for.

Proxy mode believes identity headers only from AUTH_TRUSTED_PROXIES, and that must be decided
by the socket's peer. uvicorn's own X-Forwarded-For handling (on by default) replaces
scope["client"] with the forwarded address before the app runs, so a request from the
trusted proxy carrying the `X-Forwarded-For` every proxy adds looked like one from the
listener's address, and was refused. The gateway therefore runs uvicorn without it
(`gateway.serve`: proxy_headers=False; plain uvicorn: `--no-proxy-headers`) and applies
X-Forwarded-For itself (uvicorn's ProxyHeadersMiddleware, FORWARDED_ALLOW_IPS), after noting
the peer under scope["peer"]. Proxy mode refuses to start
under a uvicorn that rewrites the address itself."""
from __future__ import annotations

from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from gateway.bind import uvicorn_config
from gateway.settings import Settings

PEER = "peer"


class PeerMiddleware:
    """Keeps the socket peer as scope["peer"], then applies X-Forwarded-For to scope["client"]
    (the address logged) from the peers FORWARDED_ALLOW_IPS lists."""

    def __init__(self, app, forwarded_allow_ips: str):
        self.forwarded = ProxyHeadersMiddleware(app, trusted_hosts=forwarded_allow_ips)

    async def __call__(self, scope, receive, send):
        if scope["type"] in ("http", "websocket"):
            scope[PEER] = scope.get("client")
        return await self.forwarded(scope, receive, send)


def peer_host(scope) -> str:
    """The socket peer's address ('' when unknown)."""
    peer = scope.get(PEER) or ()
    return peer[0] if peer else ""


def check_server_forwarding(settings: Settings) -> None:
    """Raise (stopping startup) in proxy mode under a uvicorn that applies X-Forwarded-For."""
    config = uvicorn_config()
    if settings.auth_mode == "proxy" and config is not None and config.proxy_headers:
        raise RuntimeError(
            "AUTH_MODE=proxy decides trust by the socket peer, but this uvicorn replaces it "
            "with X-Forwarded-For: run it with --no-proxy-headers (the gateway applies "
            "FORWARDED_ALLOW_IPS itself)")
