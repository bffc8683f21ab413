"""Start and stop the real servers the tests talk to, on loopback, by PID only."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

REPO_ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    """A child process serving HTTP at `url`; its output goes to `log_path`."""

    process: subprocess.Popen
    url: str
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15.0) -> int:
        """Signal the process group we created, wait, and kill it if it will not go."""
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, sig)
            except ProcessLookupError:
                pass
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(5)
        return self.process.returncode


def wait_http(url: str, timeout: float = 60.0, process: subprocess.Popen | None = None,
              log_path: Path | None = None) -> None:
    """Poll `url` until it answers 200; fail early if `process` dies."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            output = log_path.read_text(errors="replace") if log_path else ""
            raise RuntimeError(f"process exited with {process.returncode} before {url} "
                               f"answered:\n{output[-4000:]}")
        try:
            if httpx.get(url, timeout=2.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    output = log_path.read_text(errors="replace") if log_path else ""
    raise TimeoutError(f"{url} did not answer 200 within {timeout}s:\n{output[-4000:]}")


def start_server(args: list[str], ready_path: str, port: int, log_path: Path,
                 env: dict[str, str] | None = None, timeout: float = 90.0,
                 cwd: Path = REPO_ROOT) -> Server:
    """Run `args` in its own process group and wait until `ready_path` answers 200."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    full_env = {**os.environ, "BENTOML_DO_NOT_TRACK": "True", **(env or {})}
    full_env["PATH"] = f"{VENV_BIN}{os.pathsep}{full_env.get('PATH', '')}"
    with open(log_path, "ab") as log_file:
        process = subprocess.Popen(args, cwd=cwd, env=full_env, stdout=log_file,
                                   stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                   start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    server = Server(process, url, log_path)
    try:
        wait_http(url + ready_path, timeout, process, log_path)
    except Exception:
        server.stop(signal.SIGKILL)
        raise
    return server


def bentoml_serve(bentoml_home: Path, port: int, log_path: Path,
                  env: dict[str, str] | None = None) -> Server:
    """A real `bentoml serve` of this repo's bentofile on 127.0.0.1:`port`."""
    return start_server(
        [str(VENV_BIN / "bentoml"), "serve", ".", "--host", "127.0.0.1", "--port", str(port)],
        "/readyz", port, log_path, env={"BENTOML_HOME": str(bentoml_home), **(env or {})})


def uvicorn_gateway(port: int, log_path: Path, env: dict[str, str], workers: int = 1) -> Server:
    """The gateway on 127.0.0.1:`port` (`workers` processes) as the image runs it:
    `python -m gateway.serve`, uvicorn with the gateway's connection limits."""
    return start_server(
        [sys.executable, "-m", "gateway.serve", "--host", "127.0.0.1",
         "--port", str(port), "--workers", str(workers)],
        "/health", port, log_path, env=env)


def run_local(data_dir: Path, log_path: Path, env: dict[str, str]) -> tuple[Server, str]:
    """`scripts/run_local.py` (what `make run` starts) on free loopback ports, once its gateway
    is ready; returns it and the Bento's URL. `stop(signal.SIGINT)` is Ctrl-C."""
    bento_port, gateway_port = free_port(), free_port()
    launcher = start_server(
        [sys.executable, "scripts/run_local.py", "--data", str(data_dir),
         "--bento-port", str(bento_port), "--gateway-port", str(gateway_port)],
        "/ready", gateway_port, log_path, env=env, timeout=180)
    return launcher, f"http://127.0.0.1:{bento_port}"


def run_tool(*args: str, env: dict[str, str] | None = None) -> str:
    """A command from the venv, from the repo root; its output, or an error carrying it."""
    result = subprocess.run([str(VENV_BIN / args[0]), *args[1:]], cwd=REPO_ROOT, text=True,
                            capture_output=True, env={**os.environ, **(env or {})}, timeout=600)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} exited with {result.returncode}:\n"
                           f"{result.stdout}{result.stderr}")
    return result.stdout


def migrate_database(database_url: str) -> None:
    """`alembic upgrade head`, as the deployments run it before the gateway starts."""
    run_tool("alembic", "upgrade", "head", env={"DATABASE_URL": database_url})


def prepare_database(database_url: str, data_dir: Path) -> None:
    """Migrate, then `python -m gateway.importer DIR --if-empty` (what `make run` does)."""
    migrate_database(database_url)
    run_tool("python", "-m", "gateway.importer", str(data_dir), "--if-empty",
             env={"DATABASE_URL": database_url})


def gateway_for(bento_url: str, database_url: str, data_dir: Path, logs_dir: Path,
                **env: str) -> Server:
    """The gateway as the tests run it: over `bento_url`, on a database migrated and holding
    `data_dir` (imported unless it already holds data)."""
    prepare_database(database_url, data_dir)
    port = free_port()
    return uvicorn_gateway(port, logs_dir / f"gateway-{port}.log", env={
        "DATABASE_URL": database_url, "BENTO_URL": bento_url,
        "BENTO_TIMEOUT_SECONDS": "1.0", "LOG_LEVEL": "info", **env})


def mlflow_server(root: Path, port: int, log_path: Path, artifacts: str | None = None,
                  env: dict[str, str] | None = None) -> Server:
    """A real `mlflow server` on 127.0.0.1:`port`: SQLite backend and proxied artifacts
    (`--serve-artifacts`) under `root`, or in `artifacts` (s3://..., with `env` naming the
    object store), as the prod Deployment runs it on PostgreSQL + object storage."""
    root.mkdir(parents=True, exist_ok=True)
    return start_server(
        [str(VENV_BIN / "mlflow"), "server", "--host", "127.0.0.1", "--port", str(port),
         "--workers", "1", "--backend-store-uri", f"sqlite:///{root / 'mlflow.db'}",
         "--artifacts-destination", artifacts or str(root / "artifacts"), "--serve-artifacts"],
        "/health", port, log_path, env=env, timeout=180)


def moto_server(port: int, log_path: Path) -> Server:
    """moto's standalone server on 127.0.0.1:`port`: the S3 API, the stand-in for object
    storage (any credentials are accepted; buckets live in memory)."""
    return start_server([sys.executable, "-m", "moto.server", "-H", "127.0.0.1",
                         "-p", str(port)], "/moto-api/", port, log_path)


def s3_env(url: str, credentials: Path, user: str = "test") -> dict[str, str]:
    """The environment boto3 (and MLflow through it) reads object storage's endpoint and the
    credentials file from; writes a credentials file for `user` (moto takes any)."""
    credentials.parent.mkdir(parents=True, exist_ok=True)
    credentials.write_text(f"[default]\naws_access_key_id = {user}\n"
                           f"aws_secret_access_key = {user}-secret\n")
    return {"AWS_ENDPOINT_URL": url, "MLFLOW_S3_ENDPOINT_URL": url,
            "AWS_DEFAULT_REGION": "us-east-1", "AWS_SHARED_CREDENTIALS_FILE": str(credentials)}
