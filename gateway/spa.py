"""Serve the built SPA for local use: files as they are, index.html for client routes."""
from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, HTTPException
from fastapi.responses import FileResponse

# Paths the SPA must never shadow: an unknown /api/... is a JSON 404, not index.html.
RESERVED = ("api", "health", "ready", "docs", "redoc", "openapi.json", "metrics")
# The same policy nginx sends in containers (frontend/nginx.conf), so `make run` is as strict.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; "
                               "img-src 'self' data:; font-src 'self'; connect-src 'self'; "
                               "object-src 'none'; base-uri 'none'; form-action 'self'; "
                               "frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}


def built_file(root: Path, path: str) -> Path | None:
    """The built file at `path` inside `root`, else None (a client route). A path no file can
    have (a NUL byte, a name or path too long for the OS) is a client route too, not an error."""
    try:
        candidate = (root / path).resolve()
        return candidate if candidate.is_relative_to(root) and candidate.is_file() else None
    except (OSError, ValueError):
        return None


def mount_spa(app: FastAPI, spa_dir: Path) -> None:
    root = spa_dir.resolve()
    index = root / "index.html"
    if not index.is_file():
        raise RuntimeError(f"SPA_DIR {spa_dir} has no index.html")
    no_cache = {"Cache-Control": "no-cache", **SECURITY_HEADERS}

    @app.get("/", include_in_schema=False)
    async def spa_index() -> FileResponse:
        return FileResponse(index, headers=no_cache)

    @app.get("/{path:path}", include_in_schema=False)
    async def spa_file(path: str) -> FileResponse:
        if path.split("/", 1)[0] in RESERVED:
            raise HTTPException(404, "Not Found")
        candidate = built_file(root, path)
        if candidate is not None:
            return FileResponse(candidate, headers=SECURITY_HEADERS)
        return FileResponse(index, headers=no_cache)
