"""datarules.BodyLimitMiddleware on a bare ASGI app: what the app receives and what is refused."""
from __future__ import annotations

import json

from datarules.bodylimit import BodyLimitMiddleware
from tests import aio


def call(headers: list[tuple[bytes, bytes]], chunks: list[bytes], max_bytes: int = 10):
    """(the app's receive callable or None when it never ran, its messages, what was sent)."""
    incoming = [{"type": "http.request", "body": chunk, "more_body": i < len(chunks) - 1}
                for i, chunk in enumerate(chunks)]
    seen, sent = {}, []

    async def receive():
        return incoming.pop(0)

    async def send(message):
        sent.append(message)

    async def app(scope, app_receive, app_send):
        seen["receive"] = app_receive
        seen["messages"] = [await app_receive() for _ in chunks]

    middleware = BodyLimitMiddleware(app, max_bytes=max_bytes)
    aio.run(middleware({"type": "http", "headers": headers}, receive, send))
    return seen.get("receive"), seen.get("messages"), sent, receive


def test_a_declared_length_within_the_limit_passes_straight_through():
    app_receive, messages, sent, receive = call([(b"content-length", b"10")], [b"12345", b"67890"])
    assert app_receive is receive and not sent
    assert [m["body"] for m in messages] == [b"12345", b"67890"]


def test_a_declared_length_over_the_limit_is_refused_unread():
    app_receive, _, sent, _ = call([(b"content-length", b"11")], [b"x" * 11])
    assert app_receive is None
    assert sent[0]["status"] == 413
    assert json.loads(sent[1]["body"])["error"] == "request_too_large"


def test_an_undeclared_body_is_counted_then_replayed_or_refused():
    app_receive, messages, sent, receive = call([], [b"12345", b"67890"])
    assert app_receive is not receive and not sent
    assert [m["body"] for m in messages] == [b"12345", b"67890"]
    app_receive, _, sent, _ = call([], [b"123456", b"78901"])
    assert app_receive is None and sent[0]["status"] == 413


def test_a_declared_length_beside_a_transfer_encoding_is_still_counted():
    headers = [(b"content-length", b"5"), (b"transfer-encoding", b"chunked")]
    app_receive, _, sent, _ = call(headers, [b"123456", b"78901"])
    assert app_receive is None and sent[0]["status"] == 413
    app_receive, messages, sent, receive = call(headers, [b"12", b"34"])
    assert app_receive is not receive and not sent
    assert [m["body"] for m in messages] == [b"12", b"34"]
