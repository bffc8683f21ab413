"""The request-body limit both HTTP deployables enforce (the Bento: BentoML 1.4 has no setting
for one; the gateway), as one pure ASGI middleware: standard library only, like the rest here."""
from __future__ import annotations

import json


class BodyLimitMiddleware:
    """A declared Content-Length over `max_bytes` is refused at once (one within it passes
    straight through); a body without one is read here up to the limit (then refused) and
    replayed to the app, so the app never sees half.
    Either way the answer is a JSON 413 with `error` and `detail`."""

    def __init__(self, app, max_bytes: int):
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = dict(scope["headers"])
        declared = headers.get(b"content-length", b"")
        if declared.isdigit():
            if int(declared) > self.max_bytes:
                return await self.too_large(send)
            # The server reads no more body than a declared length: nothing to count here,
            # and the app reads it as it would without this middleware (no copy, no replay).
            # Unless a Transfer-Encoding rides along (servers refuse that, but it would win).
            if b"transfer-encoding" not in headers:
                return await self.app(scope, receive, send)
        messages, size = [], 0
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                break
            size += len(message.get("body", b""))
            if size > self.max_bytes:
                return await self.too_large(send)
            if not message.get("more_body", False):
                break

        async def replay():
            return messages.pop(0) if messages else await receive()

        await self.app(scope, replay, send)

    async def too_large(self, send) -> None:
        body = json.dumps({"error": "request_too_large",
                           "detail": f"request body larger than {self.max_bytes} bytes"}).encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"),
                                (b"content-length", str(len(body)).encode()),
                                (b"connection", b"close")]})
        await send({"type": "http.response.body", "body": body})
