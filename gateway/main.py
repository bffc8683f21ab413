"""The FastAPI app: settings, lifespan (DB engine checked at the migrated schema, Bento client),
routes. Data arrives by `python -m gateway.importer` and the API, never at start."""
from __future__ import annotations

import asyncio
import json
import logging
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError
from starlette.concurrency import run_in_threadpool

from datarules.bodylimit import BodyLimitMiddleware
from gateway.bento_client import (AiohttpTransport, BentoClient, BentoRejected, BentoUnavailable,
                                  Transport)
from gateway.bind import check_demo_bind
from gateway.excerpt import validation_errors
from gateway.identity import Authenticator
from gateway.impressions import ImpressionRecorder
from gateway.limits import HostCheckMiddleware
from gateway.metrics_port import metrics_server
from gateway.migrations_state import check_schema
from gateway.observability import Metrics, ObservabilityMiddleware, setup_logging
from gateway.peer import PeerMiddleware, check_server_forwarding
from gateway.quota import WriteQuota
from gateway.routers import likes, me, online, playlists, recommendations, system, users
from gateway.serving import Serving
from gateway.settings import Settings
from gateway.spa import mount_spa
from gateway.store import Conflict, NotFound, Store, make_engine

log = logging.getLogger("gateway")
# The largest legitimate body is a user or a seed request of a few hundred bytes; nginx allows 64k.
MAX_BODY_BYTES = 64 * 1024


class AsciiJSONResponse(JSONResponse):
    """JSON with non-ASCII escaped: error details echo client input, which may hold lone
    surrogates that UTF-8 cannot encode (a 500 from the error handler itself)."""

    def render(self, content) -> bytes:
        return json.dumps(content, ensure_ascii=True, allow_nan=False,
                          separators=(",", ":")).encode("ascii")


def error(status: int, detail) -> JSONResponse:
    return AsciiJSONResponse(status_code=status, content={"detail": detail})


def add_error_handlers(app: FastAPI) -> None:
    """Client mistakes and outages become 4xx/503 with a JSON detail, never a 500."""

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_: Request, exc: RequestValidationError):
        return error(422, validation_errors(exc.errors()))

    @app.exception_handler(NotFound)
    async def not_found(_: Request, exc: NotFound):
        return error(404, str(exc))

    @app.exception_handler(Conflict)
    async def conflict(_: Request, exc: Conflict):
        return error(409, str(exc))

    @app.exception_handler(BentoUnavailable)
    async def bento_unavailable(_: Request, exc: BentoUnavailable):
        response = error(503, str(exc))
        response.headers["Retry-After"] = str(exc.retry_after)
        return response

    @app.exception_handler(BentoRejected)
    async def bento_rejected(_: Request, exc: BentoRejected):
        return error(exc.status_code, exc.detail)

    @app.exception_handler(DBAPIError)
    async def database_unavailable(_: Request, exc: DBAPIError):
        log.error("database error", exc_info=exc)
        return error(503, "the database is unavailable")


def create_app(settings: Settings | None = None, bento_transport: Transport | None = None,
               challenger_transport: Transport | None = None) -> FastAPI:
    """Build the app; the transports let unit tests fake the Bentos."""
    settings = settings or Settings()
    setup_logging(settings.log_level)
    metrics = Metrics()

    authenticator = Authenticator(settings)  # a bad AUTH_* setting stops here

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        check_demo_bind(settings)
        check_server_forwarding(settings)
        with metrics_server(metrics.registry, settings.metrics_host, settings.metrics_port):
            async with serving_state(app):
                yield

    @asynccontextmanager
    async def serving_state(app: FastAPI):
        engine = make_engine(settings.sqlalchemy_url, settings.database_pool_size,
                             settings.database_max_overflow)
        store = Store(engine)
        try:
            # A schema at another revision stops the start with the fix, not 500s at first use.
            await run_in_threadpool(check_schema, engine)
        except BaseException:
            engine.dispose()
            raise
        recorder = ImpressionRecorder(
            store, metrics, settings.impressions_flush_ms, settings.impressions_batch_rows,
            settings.impressions_retention_days) if settings.impressions_enabled else None
        challenger_url = settings.challenger_url or settings.bento_url
        async with AiohttpTransport(settings.bento_url, settings.bento_timeout_seconds) as http, \
                AiohttpTransport(challenger_url, settings.bento_timeout_seconds) as other:
            app.state.store = store
            app.state.bento = BentoClient(bento_transport or http, metrics)
            challenger = BentoClient(challenger_transport or other, metrics) \
                if settings.challenger_url or challenger_transport else None
            app.state.serving = Serving(app.state.bento, challenger,
                                        settings.challenger_percent, recorder)
            flusher = asyncio.create_task(recorder.run()) if recorder else None
            try:
                yield
            finally:
                if flusher is not None:  # its last act is one more flush
                    flusher.cancel()
                    await asyncio.gather(flusher, return_exceptions=True)
        engine.dispose()

    app = FastAPI(title="Playlist recommender gateway", version="1.0.0", lifespan=lifespan)
    app.state.metrics = metrics
    app.state.settings = settings
    app.state.authenticator = authenticator
    app.state.write_quota = WriteQuota(settings.write_quota_per_minute,
                                       settings.write_quota_burst)
    app.state.admin_write_quota = WriteQuota(settings.admin_write_quota_per_minute,
                                             settings.admin_write_quota_burst)
    add_error_handlers(app)
    for router in (system, me, users, playlists, likes, recommendations, online):
        app.include_router(router.router)
    if settings.spa_dir is not None:
        mount_spa(app, settings.spa_dir)
    else:
        app.get("/", include_in_schema=False)(system.service_root)
    app.add_middleware(BodyLimitMiddleware, max_bytes=MAX_BODY_BYTES)
    if settings.cors_origin_list:
        app.add_middleware(CORSMiddleware, allow_origins=settings.cors_origin_list,
                           allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
                           allow_headers=["content-type", "x-request-id", "authorization",
                                          "x-demo-user"],
                           expose_headers=["x-request-id"])
    app.add_middleware(HostCheckMiddleware, allowed_hosts=settings.allowed_host_list)
    app.add_middleware(ObservabilityMiddleware, metrics=metrics)
    app.add_middleware(PeerMiddleware, forwarded_allow_ips=settings.forwarded_allow_ips)
    return app


app = create_app()
