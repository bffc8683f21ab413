"""GitHub's REST API as far as `bento.promote.GitHub` uses it, on a loopback port: it answers
like GitHub and records each call, so the play can read which pin a pull request proposes
(GitHub itself is not reachable from here)."""
from __future__ import annotations

import base64
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class GitHubStub:
    def __init__(self) -> None:
        self.calls: list[tuple[str, str, dict]] = []
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def answer(self, status: int, body: dict) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do(self) -> None:
                size = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(size) or b"{}")
                stub.calls.append((self.command, self.path.split("?")[0], body))
                if self.headers.get("Authorization") != "Bearer play-token":
                    return self.answer(401, {"message": "Bad credentials"})
                if self.path.endswith("/git/ref/heads/main"):
                    return self.answer(200, {"object": {"sha": "0" * 40}})
                if self.command == "GET":
                    return self.answer(404, {"message": "Not Found"})
                if self.path.endswith("/pulls"):
                    return self.answer(201, {"html_url": "https://github.example/pull/1"})
                return self.answer(201, {})

            do_GET = do_POST = do_PUT = do

            def log_message(self, *_) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def proposed_pins(self) -> list[str]:
        """The pin files the pull requests' commits write."""
        return [base64.b64decode(body["content"]).decode() for method, path, body in self.calls
                if method == "PUT" and "/contents/" in path]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
