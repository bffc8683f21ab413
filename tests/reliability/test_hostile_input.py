"""Hostile requests to the gateway (directly and through nginx) and to the Bento: always a 4xx
(JSON `detail` from the gateway), never a 500, and the servers keep answering."""
from __future__ import annotations

import json

import httpx
import pytest

from tests.hostile import NON_FINITE, NON_FINITE_CASES, strict_json

pytestmark = pytest.mark.slow
JSON = {"content-type": "application/json"}
DEEP = ("[" * 100_000 + "]" * 100_000).encode()
DEEP_OBJECT = ('{"a":' * 50_000 + "1" + "}" * 50_000).encode()

# (method, path, keyword arguments for httpx, expected status)
GATEWAY_CASES = [
    ("POST", "/api/users", {"content": json.dumps({"name": "x" * 5_000_000}).encode(),
                            "headers": JSON}, 413),
    ("POST", "/api/users", {"content": "chunked", "headers": JSON}, 413),
    ("POST", "/api/recommendations", {"content": DEEP, "headers": JSON}, 413),
    ("POST", "/api/recommendations", {"content": DEEP_OBJECT[:60_000], "headers": JSON}, 400),
    ("POST", "/api/recommendations", {"content": b"[" * 30_000, "headers": JSON}, 400),
    ("POST", "/api/recommendations", {"content": b"[" * 20_000 + b"]" * 20_000,
                                      "headers": JSON}, 400),
    ("POST", "/api/users", {"content": b'{"name": "a"}', "headers": {"content-type":
                                                                     "text/plain"}}, 422),
    ("POST", "/api/users", {"data": {"name": "a"}}, 422),
    ("POST", "/api/users", {"content": b'{"name": "\xff\xfe"}', "headers": JSON}, 400),
    ("POST", "/api/users", {"content": b'{"name": "\\ud800"}', "headers": JSON}, 422),
    ("POST", "/api/users", {"content": b'{"name": "a", "id": "\\udfff"}', "headers": JSON}, 422),
    ("POST", "/api/users", {"json": {"name": "a\x00b"}}, 422),
    ("POST", "/api/users", {"json": {"name": "=HYPERLINK(\"http://x\")"}}, 422),
    ("POST", "/api/users", {"json": [1, 2]}, 422),
    ("POST", "/api/recommendations", {"content": b"null", "headers": JSON}, 422),
    ("POST", "/api/recommendations", {"json": {"user_id": "u00001",
                                               "num_recommendations": 10**30}}, 422),
    ("GET", "/api/users/" + "x" * 5000, {}, 422),
    ("GET", "/api/users/a%00b", {}, 422),
    ("GET", "/api/users/a%1bb/likes", {}, 422),
    ("PUT", "/api/users/u00001/likes/%ED%A0%80", {}, 404),
    ("GET", "/api/playlists?limit=-1", {}, 422),
    ("GET", "/api/playlists?limit=0", {}, 422),
    ("GET", "/api/playlists?limit=" + "9" * 40, {}, 422),
    ("GET", "/api/playlists?offset=-5", {}, 422),
    ("GET", "/api/playlists?offset=" + "9" * 40, {}, 422),
    ("GET", "/api/users?limit=1e3", {}, 422),
    ("GET", "/api/users/u00001/recommendations?k=NaN", {}, 422),
    ("GET", "/api/users/u00001/recommendations?k=-3", {}, 422),
    ("GET", "/api/playlists/pl0001/similar?k=101", {}, 422),
    ("GET", "/api/playlists?q=" + "a" * 5000, {}, 422),
]
# Through nginx a few are refused before the gateway, by nginx's own limits: a too-large body
# gets nginx's JSON 413; an over-long request line or header keeps nginx's HTML 414/400 (those
# can come before the request is parsed, where nginx cannot redirect to a JSON page).
NGINX_LIMITS = {414, 400}


def sendable(kwargs: dict) -> dict:
    """A fresh generator for the chunked case (no Content-Length: counted as it streams)."""
    if kwargs.get("content") == "chunked":
        return {**kwargs, "content": (b"x" * 1000 for _ in range(200))}
    return kwargs


def check(response: httpx.Response, expected: int, nginx_limits: set[int] = frozenset()) -> None:
    if response.status_code in nginx_limits and "html" in response.headers["content-type"]:
        return
    assert response.status_code == expected, response.text[:300]
    assert response.json()["detail"], response.text


@pytest.mark.parametrize("method,path,kwargs,expected", GATEWAY_CASES)
def test_gateway_refuses_hostile_requests(gateway, method, path, kwargs, expected):
    with httpx.Client(base_url=gateway.url, timeout=30) as client:
        check(client.request(method, path, **sendable(kwargs)), expected)
        assert client.get("/health").status_code == 200


@pytest.mark.parametrize("method,path,kwargs,expected", GATEWAY_CASES)
def test_nginx_passes_or_refuses_hostile_requests_as_4xx(nginx, method, path, kwargs, expected):
    with httpx.Client(base_url=nginx.url, timeout=30) as client:
        check(client.request(method, path, **sendable(kwargs)), expected, NGINX_LIMITS)


@pytest.mark.parametrize("method,path,body", NON_FINITE_CASES)
def test_non_finite_numbers_are_422_with_a_json_detail(gateway, method, path, body):
    response = httpx.request(method, gateway.url + path, content=body, headers=JSON, timeout=10)
    assert response.status_code == 422, response.text[:300]
    assert strict_json(response.text)["detail"]


def test_a_422_echoes_only_a_short_excerpt_of_the_input(gateway):
    response = httpx.post(gateway.url + "/api/users", json={"name": "x" * 50_000}, timeout=10)
    assert response.status_code == 422 and len(response.content) < 1000, response.text[:300]
    assert strict_json(response.text)["detail"][0]["input"].startswith("xxx")


# Paths no file can have (a segment over NAME_MAX, a NUL byte, past PATH_MAX) are client routes:
# the SPA answers them (its own "not found"); under /api they are the API's JSON 404.
ODD_PATHS = ["/x" + "a" * 300, "/playlist/" + "a" * 300, "/a%00b", "/assets/a%00b.js",
             "/" + "a/" * 3000, "/" + "a" * 254 + "/" + "b" * 300, "/%2e%2e/%2e%2e/etc/passwd"]


@pytest.mark.parametrize("path", ODD_PATHS)
def test_odd_paths_get_the_app(spa_gateway, path):
    response = httpx.get(spa_gateway.url + path, timeout=10)
    assert response.status_code == 200, response.text[:300]
    assert "<!doctype html>" in response.text.lower()


@pytest.mark.parametrize("path", ["/api/" + "a" * 300, "/api/a%00b", "/api/" + "a/" * 3000])
def test_odd_api_paths_are_json_404s(spa_gateway, path):
    response = httpx.get(spa_gateway.url + path, timeout=10)
    assert response.status_code == 404 and response.json()["detail"], response.text[:300]


@pytest.mark.parametrize("headers", [{"x-request-id": "a" * 5000},
                                     {"x-request-id": "bad\u00e9id".encode("utf-8")},
                                     {"accept": "text/html"},
                                     {"content-type": "text/x-unknown; charset=utf-16"}])
def test_odd_headers_are_harmless(gateway, nginx, headers):
    for url in (gateway.url, nginx.url):
        response = httpx.get(url + "/api/users/u00001", headers=headers, timeout=10)
        assert response.status_code == 200
        assert len(response.headers["x-request-id"]) <= 128


BENTO_CASES = [
    ("/recommend", DEEP, 400),
    ("/recommend", DEEP_OBJECT, 400),
    ("/recommend", b"null", 400),
    ("/recommend", b"{nope", 400),
    ("/recommend", b'{"history": ["\xff"]}', 400),
    ("/recommend", b'{"history": ["\\ud800"]}', 400),
    ("/recommend", b'{"history": ["a\\u0000"]}', 400),
    ("/recommend", json.dumps({"history": [f"x{i}" for i in range(3000)]}).encode(), 400),
    ("/recommend", json.dumps({"history": ["y" * 129]}).encode(), 400),
    ("/recommend", b'{"k": -1}', 400),
    ("/recommend", b'{"k": 1e400}', 400),
    *[("/recommend", b'{"k": %s}' % number, 400) for number in NON_FINITE],
    *[("/recommend", b'{"history": ["a"], "history_times": [%s]}' % number, 400)
      for number in NON_FINITE],
    *[("/similar", b'{"playlist_id": %s}' % number, 400) for number in NON_FINITE],
    ("/recommend", b'{"k": 100000000000000000000000000000}', 400),
    ("/similar", b'{"playlist_id": ""}', 400),
    ("/similar", b'{"playlist_id": "nope"}', 404),
    ("/similar", b'{"playlist_id": "\\udfff"}', 400),
    ("/model_info", b"junk", 400),
]


@pytest.mark.parametrize("path,body,expected", BENTO_CASES)
def test_bento_refuses_hostile_requests(bento_server, path, body, expected):
    response = httpx.post(bento_server.url + path, content=body, headers=JSON, timeout=30)
    assert response.status_code == expected, response.text[:300]
    assert response.json()
    assert httpx.get(bento_server.url + "/readyz", timeout=10).status_code == 200


# BentoML parses a form content type as a form (multipart with no boundary: its 500), and
# anything else as JSON; the APIs take JSON only, so the rest is a 415 before BentoML reads it.
BENTO_CONTENT_TYPES = ["multipart/form-data", "multipart/form-data; boundary=x",
                       "application/x-www-form-urlencoded", "text/plain", "application/xml",
                       "Multipart/Form-Data", "application/vnd.bentoml+pickle"]


@pytest.mark.parametrize("content_type", BENTO_CONTENT_TYPES)
@pytest.mark.parametrize("path", ["/recommend", "/similar", "/model_info"])
def test_bento_refuses_bodies_that_are_not_json(bento_server, path, content_type):
    response = httpx.post(bento_server.url + path, content=b'{"k": 3}',
                          headers={"content-type": content_type}, timeout=30)
    assert response.status_code == 415, response.text[:300]
    assert strict_json(response.text)["detail"]


@pytest.mark.parametrize("content_type", ["application/json", "application/json; charset=utf-8",
                                          "APPLICATION/JSON", None])
def test_bento_takes_json_bodies(bento_server, content_type):
    headers = {"content-type": content_type} if content_type else {}
    response = httpx.post(bento_server.url + "/recommend", content=b'{"k": 3}', headers=headers,
                          timeout=30)
    assert response.status_code == 200 and len(response.json()["items"]) == 3, response.text
