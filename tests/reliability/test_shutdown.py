"""SIGTERM while requests are in flight: the gateway and the Bento finish them, then exit.

A request is held in flight deterministically by sending its headers and half its body, then
the signal, then the rest: the server has started the request and must still answer it.
"""
from __future__ import annotations

import json
import os
import signal
import socket
import time

import pytest

from devtools.procs import Server, bentoml_serve, free_port, gateway_for
from tests.reliability.background import BackgroundLoad

pytestmark = pytest.mark.slow


def half_sent(url: str, path: str, body: dict) -> tuple[socket.socket, bytes]:
    """Open a connection and send all but the second half of a JSON POST; return the rest."""
    host, port = url.removeprefix("http://").split(":")
    payload = json.dumps(body).encode()
    sock = socket.create_connection((host, int(port)), timeout=20)
    head = (f"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(payload)}\r\nConnection: close\r\n\r\n").encode()
    middle = len(payload) // 2
    sock.sendall(head + payload[:middle])
    return sock, payload[middle:]


def finish(sock: socket.socket, rest: bytes) -> tuple[int, dict]:
    sock.sendall(rest)
    answer = b""
    while chunk := sock.recv(65536):
        answer += chunk
    sock.close()
    head, _, body = answer.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    if b"transfer-encoding: chunked" in head.lower():
        size, _, body = body.partition(b"\r\n")
        body = body[:int(size, 16)]
    return status, json.loads(body)


def terminate_with_requests_in_flight(server: Server, path: str, body: dict,
                                      in_flight: int = 3) -> list[tuple[int, dict]]:
    pending = [half_sent(server.url, path, body) for _ in range(in_flight)]
    time.sleep(0.3)  # the server has read the headers and waits for the bodies
    os.killpg(server.process.pid, signal.SIGTERM)
    time.sleep(0.5)  # shutdown has begun
    answers = [finish(sock, rest) for sock, rest in pending]
    # A clean exit; uvicorn re-raises the signal once it has shut down gracefully.
    assert server.process.wait(30) in (0, -signal.SIGTERM), server.log()[-2000:]
    return answers


def test_gateway_sigterm_finishes_in_flight_requests(bento_server, sample_data_dir,
                                                     artifacts_dir, tmp_path):
    gateway = gateway_for(bento_server.url, f"sqlite:///{tmp_path}/shutdown.db",
                          sample_data_dir, artifacts_dir / "logs")
    try:
        with BackgroundLoad(gateway.url, lambda w, n: ("GET", "/api/users/u00001/recommendations"),
                            workers=3) as load:
            time.sleep(0.5)
            answers = terminate_with_requests_in_flight(
                gateway, "/api/recommendations", {"user_id": "u00001", "num_recommendations": 5})
        assert [status for status, _ in answers] == [200] * len(answers)
        assert all(len(body["recommendations"]) == 5 for _, body in answers)
        # The load saw answers, then refused connections: never an error status.
        assert {o.status for o in load.outcomes} <= {200, 0}
        assert any(o.status == 200 for o in load.outcomes)
    finally:
        gateway.stop()


def test_bento_sigterm_finishes_in_flight_requests(bento_home, artifacts_dir):
    port = free_port()
    bento = bentoml_serve(bento_home, port, artifacts_dir / "logs" / f"bento-term-{port}.log")
    try:
        with BackgroundLoad(bento.url, lambda w, n: ("GET", "/readyz"), workers=2) as load:
            time.sleep(0.5)
            answers = terminate_with_requests_in_flight(
                bento, "/recommend", {"history": ["pl0001", "pl0002"], "k": 4})
        assert [status for status, _ in answers] == [200] * len(answers)
        assert all(len(body["items"]) == 4 for _, body in answers)
        assert {o.status for o in load.outcomes} <= {200, 503, 0}  # 503: "not ready", stopping
    finally:
        bento.stop()
