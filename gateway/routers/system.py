"""Liveness, readiness, metrics and the service root."""
from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.concurrency import run_in_threadpool

from gateway.bento_client import BentoUnavailable
from gateway.deps import BentoDep, StoreDep
from gateway.schemas import ClientConfig, Readiness

router = APIRouter(tags=["system"])


@router.get("/health")
async def health() -> dict[str, str]:
    """The process is up (says nothing about the database or the Bento)."""
    return {"status": "ok"}


@router.get("/ready", response_model=Readiness,
            responses={503: {"description": "a dependency is down; `checks` says which"}})
async def ready(store: StoreDep, bento: BentoDep,
                scope: Literal["all", "database"] = Query(
                    "all", description="`database`: skip the Bento, for an orchestrator's "
                                       "readiness probe (browsing works while the Bento is down)")):
    """200 only when the database and (unless `scope=database`) the Bento's /readyz answer."""
    checks = {"database": "ok", "bento": "ok" if scope == "all" else "not checked"}
    try:
        await run_in_threadpool(store.ping)
    except Exception as err:  # any driver error means "not ready", never a 500
        checks["database"] = f"unavailable: {type(err).__name__}"
    if scope == "all":
        try:
            await bento.ready()
        except BentoUnavailable as err:
            checks["bento"] = f"unavailable: {err}"
    failed = [name for name, state in checks.items() if state.startswith("unavailable")]
    if failed:
        return JSONResponse(status_code=503, content={
            "detail": f"not ready: {', '.join(failed)} unavailable", "checks": checks})
    return {"status": "ready", "checks": checks}


@router.get("/api/config", response_model=ClientConfig)
async def client_config(request: Request):
    """What the UI needs before anything else: the auth mode (demo shows the listener picker)
    and where signing out goes (AUTH_SIGN_OUT_URL, e.g. oauth2-proxy's /oauth2/sign_out)."""
    settings = request.app.state.settings
    return {"auth_mode": settings.auth_mode, "sign_out_url": settings.auth_sign_out_url}


@router.get("/metrics", include_in_schema=False)
async def metrics(request: Request) -> Response:
    """On the API port only while METRICS_PORT is 0 (gateway/metrics_port.py)."""
    if request.app.state.settings.metrics_port:
        return JSONResponse({"detail": "metrics are served on METRICS_PORT"}, status_code=404)
    return Response(generate_latest(request.app.state.metrics.registry),
                    media_type=CONTENT_TYPE_LATEST)


def service_root() -> dict[str, str]:
    """What answers `GET /` when no SPA is configured."""
    return {"service": "playlist recommender gateway", "docs": "/docs"}
