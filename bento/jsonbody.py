"""The Bento's APIs take JSON bodies only. BentoML 1.4 picks a parser by Content-Type: forms
(multipart, urlencoded) go to Starlette's form parser, whose 400 for a multipart body without
a boundary BentoML answers as a 500; pickle is refused with a 500 too; anything else is read as
JSON. This pure ASGI middleware answers every declared non-JSON body type with a JSON 415
before BentoML sees it; no Content-Type stays JSON, as BentoML reads it."""
from __future__ import annotations

import json

BODY_METHODS = {"POST", "PUT", "PATCH"}


def is_json(content_type: bytes) -> bool:
    """application/json, or a structured +json type, with any parameters (charset)."""
    media_type = content_type.split(b";", 1)[0].strip().lower()
    structured = media_type.startswith(b"application/") and media_type.endswith(b"+json")
    return media_type == b"application/json" or structured


class JSONBodyMiddleware:
    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and scope["method"] in BODY_METHODS:
            content_type = dict(scope["headers"]).get(b"content-type")
            if content_type is not None and not is_json(content_type):
                return await self.unsupported(send)
        return await self.app(scope, receive, send)

    async def unsupported(self, send) -> None:
        body = json.dumps({"error": "unsupported_media_type",
                           "detail": "send the body as application/json"}).encode()
        await send({"type": "http.response.start", "status": 415,
                    "headers": [(b"content-type", b"application/json"),
                                (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})
