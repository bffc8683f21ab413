"""Run the project's own frontend/nginx.conf in tests: rendered as the image does, on loopback."""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from devtools.procs import REPO_ROOT, Server, start_server
from frontend.build import build

TEMPLATE = REPO_ROOT / "frontend" / "nginx.conf"
TEMPLATE_VARIABLES = "${GATEWAY_ADDRESS} ${NGINX_PORT}"


def render_conf(gateway_url: str, listen: str) -> str:
    """envsubst with an explicit variable list, so nginx's own $variables survive."""
    env = {**os.environ, "GATEWAY_ADDRESS": urlsplit(gateway_url).netloc, "NGINX_PORT": listen}
    return subprocess.run(["envsubst", TEMPLATE_VARIABLES], input=TEMPLATE.read_text(),
                          capture_output=True, text=True, check=True, env=env).stdout


@dataclass
class Nginx:
    """A running nginx (`server`) and the prefix folder holding its config and the built SPA."""

    server: Server
    prefix: Path
    listen: str

    @property
    def url(self) -> str:
        return self.server.url

    def stop(self) -> None:
        self.server.stop()
        shutil.rmtree(self.prefix, ignore_errors=True)
        remove_runtime_files(self.listen)


def remove_runtime_files(listen: str) -> None:
    """The pid file and temp folders the config puts in /tmp, named after what it listens on."""
    for leftover in Path("/tmp").glob(f"nginx-{listen}[.-]*"):
        if leftover.is_dir():
            shutil.rmtree(leftover, ignore_errors=True)
        else:
            leftover.unlink(missing_ok=True)


def start_nginx(gateway_url: str, port: int, log_path: Path, as_user: int | None = None) -> Nginx:
    """Build the SPA into a fresh prefix and run nginx there in the foreground (as `as_user`,
    a uid, when given: root can prove the config needs no privileges)."""
    # Not under pytest's 0700 tmp: when tests run as root, nginx workers run as nobody.
    prefix = Path(tempfile.mkdtemp(prefix="test-nginx-"))
    prefix.chmod(0o755)
    listen = f"127.0.0.1:{port}"
    try:
        build(prefix / "html")
        conf = prefix / "nginx.conf"
        conf.write_text(render_conf(gateway_url, listen))
        drop = []
        if as_user is not None:  # it reopens /dev/stdout (our log file) as that user
            drop = ["setpriv", f"--reuid={as_user}", f"--regid={as_user}", "--clear-groups", "--"]
            log_path.parent.mkdir(parents=True, exist_ok=True)
            log_path.touch()
            os.chown(log_path, as_user, as_user)
        server = start_server([*drop, shutil.which("nginx") or "/usr/sbin/nginx", "-p",
                               f"{prefix}/", "-c", str(conf), "-e", "stderr", "-g", "daemon off;"],
                              "/healthz", port, log_path, timeout=30)
    except BaseException:
        shutil.rmtree(prefix, ignore_errors=True)
        remove_runtime_files(listen)
        raise
    return Nginx(server, prefix, listen)
