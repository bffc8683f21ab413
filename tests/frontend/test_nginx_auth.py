"""frontend/nginx.conf in front of a real gateway in AUTH_MODE=proxy: identity headers a client
sends never reach the gateway, and a client over the API rate gets nginx's JSON 429."""
from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from devtools.nginx_proc import start_nginx
from devtools.procs import free_port, gateway_for
from tests.frontend.edge_proxy import SESSION_USER, EdgeProxy

pytestmark = pytest.mark.slow
FORGED = {"X-Auth-Request-User": "alice", "X-Auth-Request-Email": "alice@example.org",
          "X-Auth-Request-Groups": "admin"}


@pytest.fixture(scope="module")
def proxied(sample_data_dir, tmp_path_factory, logs_dir):
    """(gateway url, nginx url): the gateway trusts identity headers from 127.0.0.1, which is
    exactly where nginx connects from, so only nginx's stripping keeps forged ones out."""
    work = tmp_path_factory.mktemp("nginx-auth")
    gateway = gateway_for("http://127.0.0.1:9", f"sqlite:///{work / 'gateway.db'}",
                          sample_data_dir, logs_dir, AUTH_MODE="proxy",
                          AUTH_TRUSTED_PROXIES="127.0.0.1")
    try:
        port = free_port()
        nginx = start_nginx(gateway.url, port, logs_dir / f"nginx-auth-{port}.log")
    except BaseException:
        gateway.stop()
        raise
    yield gateway.url, nginx.url, gateway
    nginx.stop()
    gateway.stop()


def test_client_sent_identity_headers_never_reach_the_gateway(proxied):
    gateway_url, nginx_url, _ = proxied
    # Straight to the gateway (a trusted peer) the headers work, so they would if they arrived.
    assert httpx.get(gateway_url + "/api/users", headers=FORGED).status_code == 200
    assert httpx.get(gateway_url + "/api/me", headers=FORGED).json()["id"] == "alice"
    for variant in (FORGED, {k.lower(): v for k, v in FORGED.items()},
                    {"X-Auth-Request-User": "alice", "x-auth-request-user": "bob"}):
        through = httpx.get(nginx_url + "/api/users", headers=variant)
        assert through.status_code == 401, through.text
        assert httpx.get(nginx_url + "/api/me", headers=variant).status_code == 401
        liked = httpx.put(nginx_url + "/api/me/likes/pl0001", headers=variant)
        assert liked.status_code == 401 and liked.json()["detail"]
    assert httpx.get(nginx_url + "/api/playlists?limit=1").status_code == 200


def test_a_client_over_the_api_rate_gets_json_429s(proxied):
    _, nginx_url, _ = proxied
    # 127.0.0.2 is loopback too, but not the exempt 127.0.0.1: a stand-in for a remote client.
    transport = httpx.HTTPTransport(local_address="127.0.0.2")
    with httpx.Client(transport=transport, timeout=10) as client:
        with ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(lambda _: client.get(nginx_url + "/api/tags"), range(120)))
        statuses = [answer.status_code for answer in answers]
        assert statuses.count(200) >= 40 and 429 in statuses, statuses
        assert set(statuses) <= {200, 429}
        refused = next(answer for answer in answers if answer.status_code == 429)
        assert refused.headers["content-type"] == "application/json"
        assert "Too many requests" in refused.json()["detail"]
        assert "content-security-policy" in refused.headers
    # The machine itself is not limited.
    assert all(httpx.get(nginx_url + "/api/tags").status_code == 200 for _ in range(60))


def remote_client() -> httpx.Client:
    """From 127.0.0.2: loopback, but neither the trusted proxy address nor nginx's exempt one."""
    return httpx.Client(transport=httpx.HTTPTransport(local_address="127.0.0.2"), timeout=10)


def logged_request(gateway, request_id: str) -> dict:
    return next(json.loads(line) for line in gateway.log().splitlines()
                if line.startswith("{") and f'"request_id": "{request_id}"' in line
                and '"msg": "request"' in line)


def test_identity_is_trusted_by_the_peer_whatever_x_forwarded_for_names(proxied):
    """An authenticating edge (as ingress-nginx or Traefik do) adds X-Forwarded-For with the
    listener's address; the gateway trusts its identity headers because the edge is the peer."""
    gateway_url, nginx_url, _ = proxied
    edge = EdgeProxy(gateway_url, nginx_url)
    try:
        with remote_client() as client:
            client.cookies.set(SESSION_USER, "alice")
            me = client.get(edge.url + "/api/me")
            assert me.status_code == 200 and me.json()["id"] == "alice", me.text
            assert client.put(edge.url + "/api/me/likes/pl0002").status_code == 200
            assert client.get(edge.url + "/").status_code == 200  # the SPA, through nginx
    finally:
        edge.stop()


def test_nginx_forwarded_address_is_logged_but_never_trusted(proxied):
    """frontend/nginx.conf adds X-Forwarded-For: the gateway logs that address (nginx is in
    FORWARDED_ALLOW_IPS) while trust stays with the socket peer."""
    gateway_url, nginx_url, gateway = proxied
    with remote_client() as client:
        answer = client.get(nginx_url + "/api/playlists?limit=1",
                            headers={"X-Request-ID": "xff-through-nginx"})
        assert answer.status_code == 200
        forged = client.get(gateway_url + "/api/me",
                            headers={**FORGED, "X-Forwarded-For": "127.0.0.1"})
        assert forged.status_code == 403 and forged.json()["detail"], forged.text
    assert logged_request(gateway, "xff-through-nginx")["client"] == "127.0.0.2"
