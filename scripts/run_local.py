"""`make run`: train when the store has no model, migrate the database (`alembic upgrade head`)
and import the data directory into it when it is empty (`python -m gateway.importer DIR
--if-empty`), then run the Bento and the gateway (which also serves the web UI) on 127.0.0.1 in
the foreground. Ctrl-C stops both.

The environment passes through to both, so `AUTH_MODE=proxy make run` runs the gateway in proxy
mode (README "Auth modes"); the default is demo mode, which is why everything binds loopback."""
from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def has_model(name: str) -> bool:
    import bentoml
    from bentoml.exceptions import NotFound

    try:
        return bool(bentoml.models.list(name))
    except NotFound:
        return False


def wait_ready(url: str, process: subprocess.Popen, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit(f"{process.args[0]} exited with {process.returncode} before {url} answered")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    sys.exit(f"{url} did not become ready within {timeout:.0f}s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=Path("data/sample"))
    parser.add_argument("--model-name", default="playlist_recommender")
    parser.add_argument("--bento-port", type=int, default=3000)
    parser.add_argument("--gateway-port", type=int, default=8000)
    args = parser.parse_args()
    os.chdir(REPO_ROOT)
    if not has_model(args.model_name):
        print(f"no {args.model_name} model in the store yet: training on {args.data}", flush=True)
        subprocess.run([sys.executable, "-m", "bento.train", "--data", str(args.data),
                        "--model-name", args.model_name], check=True)
    subprocess.run([sys.executable, "frontend/build.py", "--out", "frontend/dist"], check=True)
    Path("var").mkdir(exist_ok=True)
    bento_url = f"http://127.0.0.1:{args.bento_port}"
    gateway_url = f"http://127.0.0.1:{args.gateway_port}"
    env = {**os.environ, "RECOMMENDER_MODEL": f"{args.model_name}:latest",
           "BENTO_URL": bento_url, "SPA_DIR": str(REPO_ROOT / "frontend" / "dist"),
           "DATABASE_URL": os.environ.get("DATABASE_URL", "sqlite:///var/gateway.db")}
    # The schema first (the gateway refuses an unmigrated database), then the sample, once.
    subprocess.run([str(BIN / "alembic"), "upgrade", "head"], env=env, check=True)
    subprocess.run([sys.executable, "-m", "gateway.importer", str(args.data), "--if-empty"],
                   env=env, check=True)
    children = [subprocess.Popen([str(BIN / "bentoml"), "serve", ".", "--host", "127.0.0.1",
                                  "--port", str(args.bento_port)], env=env)]
    stopping = False

    def stop(*_) -> None:
        nonlocal stopping
        stopping = True
        for child in children:
            if child.poll() is None:
                child.terminate()

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    wait_ready(f"{bento_url}/readyz", children[0])
    # The image's CMD: uvicorn with the gateway's connection limits (gateway/serve.py).
    children.append(subprocess.Popen([sys.executable, "-m", "gateway.serve", "--host",
                                      "127.0.0.1", "--port", str(args.gateway_port)], env=env))
    wait_ready(f"{gateway_url}/ready", children[1])
    auth_mode = env.get("AUTH_MODE", "demo")
    demo_note = "   (anyone on this machine may act as any listener)" if auth_mode == "demo" else ""
    print(f"\n  Web UI and API: {gateway_url}/   (API docs: {gateway_url}/docs)\n"
          f"  Auth mode:      {auth_mode}{demo_note}\n"
          f"  Bento:          {bento_url}/   (Swagger UI; POST /recommend)\n"
          "  Ctrl-C stops both.\n", flush=True)
    while not stopping and all(child.poll() is None for child in children):
        time.sleep(0.5)
    stop()
    for child in children:
        child.wait(30)
    sys.exit(0 if stopping else 1)


if __name__ == "__main__":
    main()
