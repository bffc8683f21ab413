"""frontend/nginx.conf, rendered as the image renders it and run for real on loopback."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import httpx
import pytest

from devtools.nginx_proc import TEMPLATE, remove_runtime_files, render_conf, start_nginx
from devtools.procs import free_port

pytestmark = pytest.mark.slow
SECURITY_HEADERS = ("content-security-policy", "x-content-type-options", "referrer-policy",
                    "x-frame-options", "permissions-policy")


@pytest.fixture(scope="module")
def nginx_url(ui_chain) -> str:
    return ui_chain.url


def asset_paths(nginx_url: str) -> list[str]:
    index = httpx.get(nginx_url + "/").text
    return re.findall(r'(?:src|href)="(/assets/[0-9a-f]{12}/[^"]+)"', index)


def test_template_uses_only_its_two_variables():
    placeholders = set(re.findall(r"\$\{(\w+)\}", TEMPLATE.read_text()))
    assert placeholders == {"GATEWAY_ADDRESS", "NGINX_PORT"}
    rendered = render_conf("http://gateway:8000", "8080")
    assert "${" not in rendered
    assert "server gateway:8000;" in rendered and "keepalive 32;" in rendered
    assert "proxy_pass http://gateway;" in rendered and "listen 8080;" in rendered
    assert "$request_id" in rendered and "$http_x_request_id" in rendered  # nginx's own kept


def test_rendered_config_passes_nginx_t(tmp_path):
    listen = f"127.0.0.1:{free_port()}"
    conf = tmp_path / "nginx.conf"
    conf.write_text(render_conf("http://127.0.0.1:9", listen))
    try:
        result = subprocess.run(["nginx", "-t", "-p", f"{tmp_path}/", "-c", str(conf),
                                 "-e", "stderr"], capture_output=True, text=True)
    finally:
        remove_runtime_files(listen)
    assert result.returncode == 0, result.stderr


def test_security_headers_on_pages_assets_api_and_errors(nginx_url):
    for path in ["/", "/browse", asset_paths(nginx_url)[0], "/api/tags", "/assets/missing.js",
                 "/healthz"]:
        headers = httpx.get(nginx_url + path).headers
        missing = [name for name in SECURITY_HEADERS if name not in headers]
        assert not missing, (path, missing)
    csp = httpx.get(nginx_url + "/").headers["content-security-policy"]
    directives = dict(part.strip().split(" ", 1) for part in csp.split(";"))
    assert directives["script-src"] == "'self'" and directives["style-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'" and directives["object-src"] == "'none'"
    assert "unsafe" not in csp
    headers = httpx.get(nginx_url + "/").headers
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "no-referrer"
    assert "nginx/" not in headers.get("server", "")


def test_index_is_no_cache_and_hashed_assets_are_immutable(nginx_url):
    for path in ["/", "/index.html", "/playlist/pl0001"]:
        assert httpx.get(nginx_url + path).headers["cache-control"] == "no-cache", path
    assets = asset_paths(nginx_url)
    assert {p.rsplit(".", 1)[-1] for p in assets} >= {"js", "css", "svg"}
    for path in assets:
        response = httpx.get(nginx_url + path)
        assert response.status_code == 200, path
        assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
    module = httpx.get(nginx_url + next(p for p in assets if p.endswith("app.js")))
    assert module.headers["content-type"] == "application/javascript"
    missing = httpx.get(nginx_url + "/assets/000000000000/app.js")
    assert missing.status_code == 404 and "cache-control" not in missing.headers


def test_gzip_for_text_assets_and_api_json(nginx_url):
    gzip = {"Accept-Encoding": "gzip"}
    for path in [next(p for p in asset_paths(nginx_url) if p.endswith(".css")),
                 "/api/playlists?limit=50"]:
        response = httpx.get(nginx_url + path, headers=gzip)
        assert response.headers.get("content-encoding") == "gzip", path
        assert response.headers.get("vary") == "Accept-Encoding"
    plain = httpx.get(nginx_url + "/api/playlists?limit=50",
                      headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers


def test_client_routes_fall_back_to_index_but_api_paths_do_not(nginx_url):
    index = httpx.get(nginx_url + "/").text
    for path in ["/browse?q=jazz", "/playlist/pl0001", "/model", "/some/deep/route"]:
        response = httpx.get(nginx_url + path)
        assert response.status_code == 200 and response.text == index, path
    api_miss = httpx.get(nginx_url + "/api/no-such-thing")
    assert api_miss.status_code == 404
    assert api_miss.headers["content-type"].startswith("application/json")


def test_proxies_health_ready_and_api_to_the_gateway(nginx_url):
    assert httpx.get(nginx_url + "/health").json() == {"status": "ok"}
    assert httpx.get(nginx_url + "/ready").json()["checks"] == {"database": "ok", "bento": "ok"}
    assert httpx.get(nginx_url + "/api/playlists/pl0001").json()["id"] == "pl0001"
    created = httpx.post(nginx_url + "/api/users", json={"name": "Via Nginx"})
    assert created.status_code == 201 and created.json()["name"] == "Via Nginx"
    healthz = httpx.get(nginx_url + "/healthz")
    assert healthz.status_code == 200 and healthz.text == "ok\n"


def test_request_id_is_kept_or_minted_and_reaches_the_gateway(nginx_url, ui_chain):
    kept = httpx.get(nginx_url + "/api/tags", headers={"X-Request-ID": "trace-abc.123"})
    assert kept.headers.get_list("x-request-id") == ["trace-abc.123"]
    minted = httpx.get(nginx_url + "/api/tags").headers.get_list("x-request-id")
    assert len(minted) == 1 and re.fullmatch(r"[0-9a-f]{32}", minted[0])
    for unsafe in ['x" forged=1', "a" * 129]:  # log-line injection, oversized
        replaced = httpx.get(nginx_url + "/api/tags", headers={"X-Request-ID": unsafe})
        assert re.fullmatch(r"[0-9a-f]{32}", replaced.headers["x-request-id"]), unsafe
    gateway_log = ui_chain.gateway.log()
    assert "trace-abc.123" in gateway_log and minted[0] in gateway_log


def test_gateway_down_gives_json_502_and_healthz_stays_up(tmp_path):
    dead_gateway = f"http://127.0.0.1:{free_port()}"
    nginx = start_nginx(dead_gateway, free_port(), tmp_path / "nginx.log")
    try:
        response = httpx.get(nginx.url + "/api/users")
        assert response.status_code == 502
        assert response.json()["detail"].startswith("The gateway is not answering")
        assert httpx.get(nginx.url + "/healthz").status_code == 200
        assert httpx.get(nginx.url + "/").status_code == 200  # the SPA still loads
    finally:
        nginx.stop()


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("setpriv"),
                    reason="needs root to drop to another user (as a non-root user every "
                           "other test here already runs nginx non-root)")
def test_runs_as_a_non_root_user(tmp_path):
    """Everything nginx writes is under /tmp, so an unprivileged user can run it."""
    nginx = start_nginx("http://127.0.0.1:9", free_port(), tmp_path / "nginx.log",
                        as_user=65534)
    try:
        assert httpx.get(nginx.url + "/healthz").status_code == 200
        status = Path(f"/proc/{nginx.server.process.pid}/status").read_text()
        assert re.search(r"^Uid:\s+65534\s", status, re.MULTILINE), status
    finally:
        nginx.stop()
