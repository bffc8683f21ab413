"""Run the gateway: `python -m gateway.serve [--host H] [--port P] [--workers N]`, the one
command the image's CMD, `make run`, the tests and the benchmarks start.

uvicorn, with its httptools protocol guarded against idle and slow clients (README "Limits"):
- a connection must finish each request head within HEAD_TIMEOUT_SECONDS of opening or of
  starting it (an idle or trickling client is closed, 408 when it had sent part of a head);
- a head is at most MAX_HEAD_BYTES and MAX_HEADERS headers (431);
- a body must arrive within BODY_TIMEOUT_SECONDS of its head (408);
- at most MAX_IN_FLIGHT requests run at once; past that a 503 with Retry-After. Open sockets
  do not count: uvicorn's own --limit-concurrency counts idle connections too, so 200 of them
  locked every other client out.
Every refusal is JSON with a `detail`. uvicorn has no setting for the first three; the
protocol class is uvicorn's own with these checks around its parser callbacks."""
from __future__ import annotations

import argparse
import json
import logging
import os

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

log = logging.getLogger("gateway.serve")
HEAD_TIMEOUT_SECONDS = 10.0
BODY_TIMEOUT_SECONDS = 10.0
# nginx's default large_client_header_buffers (4 x 8k) holds a head of up to 32 KiB.
MAX_HEAD_BYTES = 32 * 1024
MAX_HEADERS = 100
MAX_IN_FLIGHT = 200
RETRY_AFTER_SECONDS = 1
# Idle keep-alive connections close after this (nginx and the Bento client reuse them for less).
KEEP_ALIVE_SECONDS = 5


def json_answer(status: int, reason: str, detail: str, *headers: bytes) -> bytes:
    """A whole HTTP/1.1 response, closing the connection."""
    body = json.dumps({"detail": detail}).encode()
    head = [b"HTTP/1.1 %d %s" % (status, reason.encode()), b"content-type: application/json",
            b"content-length: %d" % len(body), b"connection: close", *headers]
    return b"\r\n".join(head) + b"\r\n\r\n" + body


HEAD_TOO_LARGE = json_answer(
    431, "Request Header Fields Too Large",
    f"request head larger than {MAX_HEAD_BYTES} bytes or over {MAX_HEADERS} headers")
HEAD_TOO_SLOW = json_answer(408, "Request Timeout",
                            f"request head not received within {HEAD_TIMEOUT_SECONDS:g} s")
BODY_TOO_SLOW = json_answer(408, "Request Timeout",
                            f"request body not received within {BODY_TIMEOUT_SECONDS:g} s")
BUSY_BODY = json.dumps({"detail": "the gateway is at its limit of requests in flight; "
                                  f"try again in {RETRY_AFTER_SECONDS} s"}).encode()


async def busy(scope, receive, send) -> None:
    """The answer past MAX_IN_FLIGHT: the app never sees the request."""
    await send({"type": "http.response.start", "status": 503, "headers": [
        (b"content-type", b"application/json"), (b"content-length", b"%d" % len(BUSY_BODY)),
        (b"retry-after", str(RETRY_AFTER_SECONDS).encode())]})
    await send({"type": "http.response.body", "body": BUSY_BODY})


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's protocol plus a head deadline, head limits, a body deadline and an in-flight
    limit (the module docstring says which). A refused connection is answered and closed, and
    nothing more it sent is parsed."""

    def connection_made(self, transport) -> None:
        super().connection_made(transport)
        self.head_bytes, self.in_head, self.refused = 0, True, False
        self.deadline = self.loop.call_later(HEAD_TIMEOUT_SECONDS, self.head_too_slow)

    def connection_lost(self, exc) -> None:
        self.deadline.cancel()
        super().connection_lost(exc)

    def refuse(self, answer: bytes) -> None:
        self.refused = True
        self.deadline.cancel()
        if not self.transport.is_closing():
            self.transport.write(answer)
            self.transport.close()

    def head_too_slow(self) -> None:
        """Idle since connecting, or a head still unfinished (between requests uvicorn's
        keep-alive timer closes an idle connection sooner)."""
        self.refuse(HEAD_TOO_SLOW if self.head_bytes else b"")

    def body_too_slow(self) -> None:
        if self.cycle is None or not self.cycle.response_started:
            self.refuse(BODY_TOO_SLOW)
        elif self.cycle.response_complete:
            self.refuse(b"")

    def data_received(self, data: bytes) -> None:
        if self.refused:
            return
        if self.in_head:
            self.head_bytes += len(data)
        super().data_received(data)
        if self.in_head and self.head_bytes > MAX_HEAD_BYTES and not self.refused:
            self.refuse(HEAD_TOO_LARGE)  # and the head is still not complete

    def on_message_begin(self) -> None:
        if self.refused:
            return
        super().on_message_begin()
        if not self.in_head:  # the next request on a kept-alive connection
            self.in_head, self.head_bytes = True, 0
            self.deadline.cancel()
            self.deadline = self.loop.call_later(HEAD_TIMEOUT_SECONDS, self.head_too_slow)

    def on_header(self, name: bytes, value: bytes) -> None:
        if len(self.headers) < MAX_HEADERS + 1:  # one past the limit is enough to refuse
            super().on_header(name, value)

    def head_size(self) -> int:
        return len(self.url) + sum(len(name) + len(value) + 4 for name, value in self.headers)

    def on_headers_complete(self) -> None:
        if self.refused:
            return
        self.in_head = False
        self.deadline.cancel()
        if len(self.headers) > MAX_HEADERS or self.head_size() > MAX_HEAD_BYTES:
            self.refuse(HEAD_TOO_LARGE)
            return
        app = self.app
        if len(self.tasks) >= MAX_IN_FLIGHT:
            log.warning("requests in flight at the limit", extra={"limit": MAX_IN_FLIGHT})
            self.app = busy
        try:
            super().on_headers_complete()
        finally:
            self.app = app
        # Cancelled when the body is complete (at once when there is none).
        self.deadline = self.loop.call_later(BODY_TIMEOUT_SECONDS, self.body_too_slow)

    def on_body(self, body: bytes) -> None:
        if not self.refused:
            super().on_body(body)

    def on_message_complete(self) -> None:
        if self.refused:
            return
        self.deadline.cancel()
        super().on_message_complete()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default=os.environ.get("UVICORN_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("UVICORN_PORT", "8000")))
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    uvicorn.run("gateway.main:app", host=args.host, port=args.port, workers=args.workers,
                http="gateway.serve:GuardedHttpToolsProtocol", server_header=False,
                timeout_keep_alive=KEEP_ALIVE_SECONDS,
                # The gateway applies X-Forwarded-For itself, after noting the socket peer
                # that proxy mode's trust is decided by (gateway/peer.py).
                proxy_headers=False)


if __name__ == "__main__":
    main()
