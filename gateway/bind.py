"""Demo mode makes everyone admin-equivalent, so it must only be reachable from this machine:
the gateway refuses to start in demo mode on a non-loopback address unless
AUTH_DEMO_ALLOW_REMOTE=true. The address is read from the running uvicorn's own Config (no
setting to forget to pass); under any other server it cannot be known, and startup says so."""
from __future__ import annotations

import ipaddress
import logging
import sys

from gateway.settings import Settings

log = logging.getLogger("gateway")


def uvicorn_config():
    """The Config of the uvicorn serving us, from the lifespan's caller frames (None: another
    server). None under gunicorn too: its workers carry a Config gunicorn never used."""
    if "gunicorn" in sys.modules:
        return None
    frame = sys._getframe(1)
    while frame is not None:
        config = getattr(frame.f_locals.get("self"), "config", None)
        if type(config).__module__ == "uvicorn.config":
            return config
        frame = frame.f_back
    return None


def uvicorn_bind() -> tuple[str, bool] | None:
    """(address, is_loopback) of the uvicorn serving us (None: cannot tell)."""
    config = uvicorn_config()
    if config is None:
        return None
    if config.uds:
        return f"unix:{config.uds}", True
    if config.fd is not None:
        return f"fd {config.fd}", False
    return config.host, is_loopback(config.host)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_demo_bind(settings: Settings) -> None:
    """Raise (stopping startup) for demo mode on an address others can reach."""
    if settings.auth_mode != "demo":
        return
    bind = uvicorn_bind()
    if bind is None:
        log.warning("demo mode: cannot tell which address this server listens on; demo mode "
                    "must only ever be reachable from this machine")
        return
    address, loopback = bind
    if not loopback and not settings.auth_demo_allow_remote:
        raise RuntimeError(
            f"AUTH_MODE=demo lets anyone act as any listener, and this gateway listens on "
            f"{address}: bind 127.0.0.1, use AUTH_MODE=proxy or jwt, or set "
            f"AUTH_DEMO_ALLOW_REMOTE=true when something in front already limits who gets in")
    if not loopback:
        log.warning("demo mode on a non-loopback address (AUTH_DEMO_ALLOW_REMOTE=true)",
                    extra={"address": address})
