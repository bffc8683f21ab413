"""The Bento's request-body limit: BentoML 1.4 has no setting for one, so a small ASGI middleware
added with `add_asgi_middleware` answers a JSON 413 before BentoML parses anything. (The
gateway has its own in gateway/limits.py: each image ships only its own package.)"""
from __future__ import annotations

import json

# /recommend's largest legitimate body: 2,000 history + 2,000 excluded ids of up to 128
# characters each, about 0.55 MB as JSON.
MAX_BODY_BYTES = 1024 * 1024


class BodyLimitMiddleware:
    """A declared Content-Length over the limit is refused at once; a body without one is read
    here up to the limit (then refused) and replayed to the app, so the app never sees half."""

    def __init__(self, app, max_bytes: int = MAX_BODY_BYTES):
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = dict(scope["headers"]).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > self.max_bytes:
            return await self.too_large(send)
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
