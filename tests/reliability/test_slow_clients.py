"""Idle, slow and oversized clients against the gateway as the image runs it (`python -m
gateway.serve`): they are closed or refused with JSON, and never lock other clients out."""
from __future__ import annotations

import json
import socket
from contextlib import ExitStack
from urllib.parse import urlsplit

import httpx
import pytest

from gateway.serve import MAX_IN_FLIGHT

pytestmark = pytest.mark.slow
# Far beyond the gateway's own timeouts: only a server that never closes runs into it.
PATIENCE_SECONDS = 60
HEAD = b"Host: 127.0.0.1\r\n"


def connect(url: str) -> socket.socket:
    parts = urlsplit(url)
    sock = socket.create_connection((parts.hostname, parts.port))
    sock.settimeout(PATIENCE_SECONDS)
    return sock


def read_answer(sock: socket.socket) -> bytes:
    """Everything until the server closes (b"" when it closes without a word)."""
    chunks = []
    while chunk := sock.recv(65536):
        chunks.append(chunk)
    return b"".join(chunks)


def status_and_json(answer: bytes) -> tuple[int, dict, bytes]:
    head, _, body = answer.partition(b"\r\n\r\n")
    assert b"content-type: application/json" in head.lower(), answer[:300]
    return int(head.split()[1]), json.loads(body), head


def send_raw(url: str, raw: bytes) -> bytes:
    with connect(url) as sock:
        sock.sendall(raw)
        return read_answer(sock)


def stalled_post(url: str) -> socket.socket:
    """A request whose body stops short of its Content-Length: in flight until it times out."""
    sock = connect(url)
    sock.sendall(b"POST /api/users HTTP/1.1\r\n" + HEAD + b"Content-Type: application/json\r\n"
                 b"Content-Length: 100\r\n\r\n{\"na")
    return sock


def test_idle_connections_do_not_lock_other_clients_out(gateway):
    with ExitStack() as stack:
        for _ in range(MAX_IN_FLIGHT + 50):
            stack.enter_context(connect(gateway.url))
        with httpx.Client(base_url=gateway.url, timeout=30) as client:
            assert client.get("/health").status_code == 200
            assert client.get("/api/playlists").status_code == 200


def test_a_connection_that_never_sends_a_request_is_closed(gateway):
    with connect(gateway.url) as sock:
        assert read_answer(sock) == b""


def test_an_unfinished_request_head_is_answered_408_and_closed(gateway):
    answer = send_raw(gateway.url, b"GET /health HTTP/1.1\r\n" + HEAD)
    status, body, _ = status_and_json(answer)
    assert (status, bool(body["detail"])) == (408, True)


def test_a_body_short_of_its_content_length_is_answered_408_and_closed(gateway):
    with stalled_post(gateway.url) as sock:
        status, body, _ = status_and_json(read_answer(sock))
    assert (status, bool(body["detail"])) == (408, True)


@pytest.mark.parametrize("extra", [b"X-Big: " + b"a" * 100_000 + b"\r\n",
                                   b"".join(b"X-%d: a\r\n" % i for i in range(10_000))],
                         ids=["100 KB header", "10,000 headers"])
def test_oversized_request_heads_are_refused_431(gateway, extra):
    answer = send_raw(gateway.url, b"GET /health HTTP/1.1\r\n" + HEAD + extra + b"\r\n")
    status, body, _ = status_and_json(answer)
    assert (status, bool(body["detail"])) == (431, True)


def test_ordinary_large_heads_still_pass(gateway):
    headers = {"X-Cookie-Like": "a" * 12_000, **{f"X-{i}": "a" for i in range(50)}}
    assert httpx.get(gateway.url + "/health", headers=headers, timeout=30).status_code == 200


def test_requests_in_flight_past_the_limit_get_503_with_retry_after(gateway):
    with ExitStack() as stack:
        for _ in range(MAX_IN_FLIGHT):
            stack.enter_context(stalled_post(gateway.url))
        answer = send_raw(gateway.url, b"GET /health HTTP/1.1\r\n" + HEAD +
                          b"Connection: close\r\n\r\n")
        status, body, head = status_and_json(answer)
        assert (status, bool(body["detail"])) == (503, True)
        assert b"retry-after: 1" in head.lower()
