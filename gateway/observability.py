"""Request ids, JSON logs and Prometheus metrics, applied by one small ASGI middleware."""
from __future__ import annotations

import json
import logging
import re
import sys
import time
import uuid
from contextvars import ContextVar

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

REQUEST_ID_HEADER = "x-request-id"
# Ids we accept from callers: short and printable, so they are safe in logs and headers.
VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:/+=@-]{1,128}$")
request_id_var: ContextVar[str] = ContextVar("request_id", default="-")
log = logging.getLogger("gateway.access")


class JsonFormatter(logging.Formatter):
    """One JSON object per line, carrying the current request id and any `extra` fields."""

    standard = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "color_message"}

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": round(record.created, 3),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
            "request_id": request_id_var.get(),
        }
        entry.update({key: value for key, value in vars(record).items()
                      if key not in self.standard and not key.startswith("_")})
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def setup_logging(level: str) -> None:
    """JSON to stderr for our loggers and uvicorn's; our middleware writes the access log."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    for name in ("gateway", "uvicorn", "uvicorn.error"):
        logger = logging.getLogger(name)
        logger.handlers = [handler]
        logger.setLevel(level.upper())
        logger.propagate = False
    logging.getLogger("uvicorn.access").disabled = True


class Metrics:
    """The gateway's own registry, so several apps (tests) never collide."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter("gateway_requests_total", "HTTP requests by route and status",
                                ["method", "route", "status"], registry=self.registry)
        self.latency = Histogram("gateway_request_duration_seconds", "HTTP request latency",
                                 ["method", "route"], registry=self.registry)
        self.upstream_latency = Histogram(
            "gateway_upstream_duration_seconds", "Latency of calls to the Bento",
            ["endpoint"], registry=self.registry,
            buckets=(.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5))
        self.upstream_errors = Counter("gateway_upstream_errors_total",
                                       "Failed calls to the Bento by kind",
                                       ["endpoint", "kind"], registry=self.registry)
        # side="catalogue": the Bento named a playlist the database lacks (shown by its id);
        # side="model": a listener's history holds playlists the model was not trained on.
        self.unknown_playlists = Counter(
            "gateway_unknown_playlists_total",
            "Playlist ids one side knows and the other does not", ["side"],
            registry=self.registry)
        # Online metrics (gateway/impressions.py): per model version and arm.
        self.impressions = Counter("gateway_impressions_total", "Recommended items shown",
                                   ["model_version", "arm"], registry=self.registry)
        self.impressions_buffered = Gauge(
            "gateway_impressions_buffered", "Impression items waiting to be written (lag)",
            registry=self.registry)
        self.impressions_dropped = Counter(
            "gateway_impressions_dropped_total",
            "Impressions not recorded (buffer full or database down)", registry=self.registry)
        self.feedback = Counter("gateway_feedback_total",
                                "Likes within 24 h of an impression of that playlist",
                                ["model_version", "arm"], registry=self.registry)


class ObservabilityMiddleware:
    """Accept or mint X-Request-ID, echo it, time the request, count it, log it as JSON."""

    def __init__(self, app, metrics: Metrics):
        self.app, self.metrics = app, metrics

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        incoming = dict(scope["headers"]).get(REQUEST_ID_HEADER.encode(), b"").decode("latin-1")
        request_id = incoming if VALID_REQUEST_ID.match(incoming) else uuid.uuid4().hex
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message):
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"],
                                      (REQUEST_ID_HEADER.encode(), request_id.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            route = getattr(scope.get("route"), "path", "unmatched")
            self.metrics.requests.labels(scope["method"], route, str(status)).inc()
            self.metrics.latency.labels(scope["method"], route).observe(elapsed)
            client = scope.get("client") or ("",)
            log.info("request", extra={"method": scope["method"], "path": scope["path"],
                                       "route": route, "status": status, "client": client[0],
                                       "duration_ms": round(elapsed * 1000, 2)})
            request_id_var.reset(token)
