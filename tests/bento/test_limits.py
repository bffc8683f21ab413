"""The Bento's abuse limits through a real `bentoml serve`: oversized bodies are a JSON 413
(declared or chunked), never a 500, and normal requests are untouched."""
from __future__ import annotations

import json

import httpx
import pytest

from bento.service import MAX_BODY_BYTES, PlaylistRecommender

pytestmark = pytest.mark.slow


def test_service_declares_a_concurrency_cap_and_the_body_limit():
    assert PlaylistRecommender.config["traffic"]["max_concurrency"] == 64
    assert any(cls.__name__ == "BodyLimitMiddleware"
               for cls, _ in PlaylistRecommender.middlewares)


def test_oversized_bodies_are_413_json_not_500(bento_server):
    history = [f"pl{n:04d}" for n in range(1, 20)]
    padding = "x" * (MAX_BODY_BYTES + 10)
    declared = httpx.post(bento_server.url + "/recommend", timeout=30,
                          content=json.dumps({"history": history, "k": 3, "pad": padding}),
                          headers={"content-type": "application/json"})
    assert declared.status_code == 413, declared.text
    assert "larger than" in declared.json()["detail"]

    def chunks():
        yield b'{"history": [], "k": 3, "pad": "'
        for _ in range(MAX_BODY_BYTES // 65536 + 2):
            yield b"y" * 65536
        yield b'"}'

    chunked = httpx.post(bento_server.url + "/recommend", content=chunks(), timeout=30,
                         headers={"content-type": "application/json"})
    assert chunked.status_code == 413, chunked.text
    assert chunked.json()["error"] == "request_too_large"


def test_requests_under_the_limit_still_work(bento_server):
    ids = [f"pl{n:04d}" for n in range(1, 151)]
    # A large legitimate request (excluded ids repeated), declared and chunked.
    body = json.dumps({"history": ids[:5], "k": 3, "exclude": ids[5:60] * 30}).encode()
    assert len(body) < MAX_BODY_BYTES
    declared = httpx.post(bento_server.url + "/recommend", content=body, timeout=30,
                          headers={"content-type": "application/json"})
    assert declared.status_code == 200, declared.text
    chunked = httpx.post(bento_server.url + "/recommend", timeout=30,
                         content=iter([body[:100], body[100:]]),
                         headers={"content-type": "application/json"})
    assert chunked.status_code == 200 and chunked.json()["items"]
    assert chunked.json() == declared.json()
    assert httpx.get(bento_server.url + "/readyz").status_code == 200
