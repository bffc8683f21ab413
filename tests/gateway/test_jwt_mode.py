"""AUTH_MODE=jwt against a local issuer: RSA keys generated here, the JWKS served by a real HTTP
server on loopback, the gateway a real uvicorn. Valid, expired, wrong audience, wrong issuer,
wrong key, rotated key, and the issuer's keys unreachable (503, never 500)."""
from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from devtools.procs import free_port, gateway_for
from tests.hostile import JSON, NON_FINITE_SAMPLE, strict_json

pytestmark = pytest.mark.slow
ISSUER, AUDIENCE = "https://issuer.test", "playlist-recs"
COOLDOWN = 1.0  # seconds between forced JWKS refetches (production default: 30)


class Issuer:
    """Signing keys by kid and a JWKS endpoint publishing the public halves of `published`."""

    def __init__(self):
        self.keys: dict[str, rsa.RSAPrivateKey] = {}
        self.published: list[str] = []
        self.fetches = 0
        self.down = self.garbage = False
        issuer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                issuer.fetches += 1
                if issuer.down:
                    self.send_error(503)
                    return
                if issuer.garbage:
                    self.send_response(200)
                    self.send_header("Content-Type", "text/html")
                    self.end_headers()
                    self.wfile.write(b"<html>maintenance</html>")
                    return
                body = json.dumps({"keys": [issuer.jwk(kid) for kid in issuer.published]})
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(body.encode())

            def log_message(self, *_):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/jwks.json"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def new_key(self, kid: str, publish: bool = True) -> None:
        self.keys[kid] = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        if publish:
            self.published.append(kid)

    def jwk(self, kid: str) -> dict:
        public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.keys[kid].public_key()))
        return {**public, "kid": kid, "use": "sig", "alg": "RS256"}

    def token(self, kid: str, sign_with: str | None = None, **claims) -> str:
        now = int(time.time())
        payload = {"iss": ISSUER, "aud": AUDIENCE, "sub": "carol", "iat": now,
                   "exp": now + 300, "name": "Carol", "email": "carol@example.org",
                   "roles": ["listener"], **claims}
        return jwt.encode(payload, self.keys[sign_with or kid], algorithm="RS256",
                          headers={"kid": kid})


@pytest.fixture(scope="module")
def issuer():
    issuer = Issuer()
    issuer.new_key("k1")
    yield issuer
    issuer.server.shutdown()


@pytest.fixture(scope="module")
def gateway(issuer, sample_data_dir, tmp_path_factory, artifacts_dir):
    work = tmp_path_factory.mktemp("jwt-gateway")
    server = gateway_for("http://127.0.0.1:9", f"sqlite:///{work / 'gateway.db'}",
                         sample_data_dir, artifacts_dir / "logs", AUTH_MODE="jwt",
                         AUTH_JWKS_URL=issuer.url, AUTH_JWT_ISSUER=ISSUER,
                         AUTH_JWT_AUDIENCE=AUDIENCE, AUTH_GROUPS_CLAIM="roles",
                         AUTH_JWKS_COOLDOWN_SECONDS=str(COOLDOWN))
    yield server
    server.stop()


def me(gateway, token: str) -> httpx.Response:
    return httpx.get(gateway.url + "/api/me", headers={"Authorization": f"Bearer {token}"},
                     timeout=15)


def assert_rejected(answer: httpx.Response, reason: str) -> None:
    assert answer.status_code == 401, answer.text
    assert answer.json()["detail"] == reason
    assert answer.headers["www-authenticate"].startswith('Bearer error="invalid_token"')


def test_a_valid_token_signs_the_listener_in(gateway, issuer):
    answer = me(gateway, issuer.token("k1"))
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"id": "carol", "name": "Carol", "like_count": 0,
                             "email": "carol@example.org", "groups": ["listener"],
                             "admin": False}
    token = issuer.token("k1")
    liked = httpx.put(gateway.url + "/api/me/likes/pl0001",
                      headers={"Authorization": f"Bearer {token}"})
    assert liked.status_code == 200
    assert httpx.get(gateway.url + "/api/users",
                     headers={"Authorization": f"Bearer {token}"}).status_code == 403
    admin = issuer.token("k1", sub="dana", roles=["admin"])
    assert httpx.get(gateway.url + "/api/users",
                     headers={"Authorization": f"Bearer {admin}"}).status_code == 200


def test_expired_wrong_audience_wrong_issuer_and_wrong_key_are_401(gateway, issuer):
    past = int(time.time()) - 3600
    assert_rejected(me(gateway, issuer.token("k1", exp=past, iat=past - 60)),
                    "the token has expired")
    assert_rejected(me(gateway, issuer.token("k1", aud="someone-else")),
                    "the token is for another audience")
    assert_rejected(me(gateway, issuer.token("k1", iss="https://evil.test")),
                    "the token is from another issuer")
    issuer.new_key("forger", publish=False)
    assert_rejected(me(gateway, issuer.token("k1", sign_with="forger")),
                    "the token's signature does not verify")
    assert_rejected(me(gateway, "not.a.token"), "the token is malformed")
    hs256 = jwt.encode({"iss": ISSUER, "aud": AUDIENCE, "sub": "x", "exp": time.time() + 60},
                       "a-shared-secret-of-at-least-32-bytes", algorithm="HS256",
                       headers={"kid": "k1"})
    assert me(gateway, hs256).status_code == 401
    assert httpx.get(gateway.url + "/api/me",
                     headers={"Authorization": "Basic YTpi"}).status_code == 401


def test_a_rotated_key_is_fetched_when_a_token_names_it(gateway, issuer):
    assert me(gateway, issuer.token("k1")).status_code == 200  # k1's set is cached now
    issuer.new_key("k2")
    issuer.published.remove("k1")
    time.sleep(COOLDOWN + 0.2)
    fetches = issuer.fetches
    answer = me(gateway, issuer.token("k2"))
    assert answer.status_code == 200, answer.text
    assert issuer.fetches == fetches + 1
    # Within the cooldown a forged kid is refused without asking the issuer again.
    assert_rejected(me(gateway, issuer.token("unknown-kid", sign_with="k2")),
                    "the token's signing key is unknown to the issuer")
    assert issuer.fetches == fetches + 1


def test_issuer_keys_unreachable_is_503_never_500(gateway, issuer):
    time.sleep(COOLDOWN + 0.2)
    issuer.down = True
    try:
        issuer.new_key("k3")  # a kid not cached, so the gateway must fetch
        answer = me(gateway, issuer.token("k3"))
        assert answer.status_code == 503 and "AUTH_JWKS_URL" in answer.json()["detail"]
    finally:
        issuer.down = False
    time.sleep(COOLDOWN + 0.2)
    issuer.garbage = True
    try:
        answer = me(gateway, issuer.token("k3"))
        assert answer.status_code == 503 and "unusable" in answer.json()["detail"]
    finally:
        issuer.garbage = False
    time.sleep(COOLDOWN + 0.2)
    assert me(gateway, issuer.token("k3")).status_code == 200
    # No identity at all is anonymous: browsing works, /api/me asks for a token.
    assert httpx.get(gateway.url + "/api/playlists?limit=1").status_code == 200
    anonymous = httpx.get(gateway.url + "/api/me")
    assert anonymous.status_code == 401 and anonymous.headers["www-authenticate"] == "Bearer"


def test_non_finite_numbers_are_422_for_a_signed_in_admin(gateway, issuer):
    newest = issuer.published[-1]  # the earlier tests rotate the keys
    admin = {"Authorization": f"Bearer {issuer.token(newest, sub='dana', roles=['admin'])}",
             **JSON}
    for method, path, body in NON_FINITE_SAMPLE:
        answer = httpx.request(method, gateway.url + path, content=body, headers=admin)
        assert answer.status_code == 422, (path, body, answer.text[:200])
        assert strict_json(answer.text)["detail"]
