"""A stand-in for the prod edge (ingress-nginx asking oauth2-proxy, k8s/overlays/prod) for the
browser tests: oauth2-proxy cannot run here without an OIDC issuer, so this small real HTTP
proxy plays both parts. It routes as the prod Ingress does (/api/ straight to the gateway,
everything else to the frontend nginx), sets X-Auth-Request-User/-Groups from its session
cookie as ingress-nginx sets them from oauth2-proxy's answer, drops any the client sent, and
answers /oauth2/sign_out by ending the session. Like ingress-nginx it tells the upstream who
connected in X-Forwarded-For (replacing what the client sent), so the gateway sees what a real
proxy sends."""
from __future__ import annotations

import http.client
import threading
from http.cookies import SimpleCookie
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

from devtools.procs import free_port

SESSION_USER, SESSION_GROUPS = "edge_user", "edge_groups"
HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "te", "trailer",
              "transfer-encoding", "upgrade", "content-length"}
IDENTITY = ("x-auth-request-user", "x-auth-request-email", "x-auth-request-groups")
SET_HERE = set(IDENTITY) | {"x-forwarded-for"}  # what the client sent is replaced


class EdgeProxy:
    def __init__(self, gateway_url: str, frontend_url: str):
        gateway, frontend = urlsplit(gateway_url).netloc, urlsplit(frontend_url).netloc

        class Handler(BaseHTTPRequestHandler):
            def forward(self):
                if self.path.startswith("/oauth2/sign_out"):
                    self.send_response(302)
                    for name in (SESSION_USER, SESSION_GROUPS):
                        self.send_header("Set-Cookie", f"{name}=; Path=/; Max-Age=0")
                    self.send_header("Location", "/")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                headers = {name: value for name, value in self.headers.items()
                           if name.lower() not in HOP_BY_HOP | SET_HERE}
                headers["X-Forwarded-For"] = self.client_address[0]
                cookies = SimpleCookie(self.headers.get("Cookie", ""))
                if SESSION_USER in cookies and cookies[SESSION_USER].value:
                    headers["X-Auth-Request-User"] = cookies[SESSION_USER].value
                    if SESSION_GROUPS in cookies:
                        headers["X-Auth-Request-Groups"] = cookies[SESSION_GROUPS].value
                upstream = gateway if self.path.startswith("/api/") else frontend
                connection = http.client.HTTPConnection(upstream, timeout=30)
                try:
                    connection.request(self.command, self.path, body=body, headers=headers)
                    answer = connection.getresponse()
                    payload = answer.read()
                finally:
                    connection.close()
                self.send_response(answer.status)
                for name, value in answer.getheaders():
                    if name.lower() not in HOP_BY_HOP:
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = forward

            def log_message(self, *_):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
