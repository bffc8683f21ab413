"""Run the three images with podman and smoke-test them through the frontend container.

    python -m scripts.images.smoke      # after scripts/images/build.sh (same IMAGE_TAG)

Each container uses the host network on its own free loopback port, set through the image's own
configuration (BENTOML_HOST/PORT, UVICORN_HOST/PORT, NGINX_PORT as address:port), and runs with a
read-only root filesystem as Kubernetes will. Only containers and volumes started here are removed.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from devtools.procs import free_port, wait_http

REPO_ROOT = Path(__file__).resolve().parents[2]

ENV_SH = REPO_ROOT / "scripts" / "images" / "env.sh"
PODMAN_ENV = ("CONTAINERS_STORAGE_CONF", "CONTAINERS_CONF", "BUILDAH_ISOLATION")
ENV_NAMES = PODMAN_ENV + ("BENTO_IMAGE", "GATEWAY_IMAGE", "FRONTEND_IMAGE", "PYTHON_BASE_IMAGE",
                          "NGINX_BASE_IMAGE", "MODEL_EXPORT", "SPARK_IMAGE")
SAMPLE_USER = "u00001"
# The Bento image carries no model: as the pods' initContainer does, `bentoml models import`
# fills BENTOML_HOME (a volume here, an emptyDir there) before the server starts; BentoML also
# keeps its runtime folders there, so the root filesystem stays read-only.
BENTOML_SCRATCH_HOME = "/var/lib/bentoml"


def image_env() -> dict[str, str]:
    """The container tool configuration and image tags that scripts/images/env.sh defines."""
    dump = "; ".join(f'printf "%s=%s\\0" {name} "${name}"' for name in ENV_NAMES)
    out = subprocess.run(["bash", "-c", f'. "{ENV_SH}" && {dump}'], check=True,
                         capture_output=True, text=True).stdout
    return dict(item.split("=", 1) for item in out.split("\0") if item)


@dataclass
class Podman:
    """podman with the project's storage and engine configuration."""

    env: dict[str, str]

    def __call__(self, *args: str, check: bool = True, timeout: float = 120,
                 with_stderr: bool = False) -> str:
        result = subprocess.run(["podman", *args], env={**os.environ, **self.env},
                                stdout=subprocess.PIPE, text=True, timeout=timeout,
                                stderr=subprocess.STDOUT if with_stderr else subprocess.PIPE)
        if check and result.returncode != 0:
            raise RuntimeError(f"podman {' '.join(args)} failed ({result.returncode}):\n"
                               f"{result.stdout[-2000:]}{(result.stderr or '')[-2000:]}")
        return result.stdout.strip()


@dataclass
class Stack:
    """Bento, gateway and frontend containers on loopback ports; `stop()` removes only them."""

    podman: Podman
    images: dict[str, str]
    ports: dict[str, int] = field(default_factory=lambda: {
        name: free_port() for name in ("bento", "gateway", "frontend")})
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:8])
    containers: dict[str, str] = field(default_factory=dict)
    volumes: list[str] = field(default_factory=list)
    # Seconds of the Bento's cold start: "model import" (the initContainer), "run to /readyz".
    timings: dict[str, float] = field(default_factory=dict)

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.ports[name]}"

    @property
    def gateway_volume(self) -> str:
        return f"playlist-recs-smoke-{self.run_id}-gateway-db"

    def run(self, name: str, *env: str, volume: tuple[str, str] | None = None,
            tmpfs: tuple[str, ...] = ()) -> str:
        """Start one image detached with a read-only root; remember its container id."""
        args = ["run", "-d", "--network", "host", "--read-only", "--cap-drop", "ALL",
                "--security-opt", "no-new-privileges",
                "--name", f"playlist-recs-smoke-{self.run_id}-{name}"]
        for pair in env:
            args += ["-e", pair]
        for path in tmpfs:
            args += ["--tmpfs", path]
        if volume:
            volume_name, mount_path = volume
            if volume_name not in self.volumes:
                self.volumes.append(volume_name)
            args += ["-v", f"{volume_name}:{mount_path}"]
        container_id = self.podman(*args, self.images[name]).splitlines()[-1]
        self.containers[name] = container_id
        return container_id

    @property
    def bento_home_volume(self) -> str:
        return f"playlist-recs-smoke-{self.run_id}-bentoml-home"

    def import_model(self) -> float:
        """The initContainer's step: `bentoml models import` of the exported model into the
        BENTOML_HOME volume, with the Bento image itself (read-only root, no network).
        Returns the seconds it took."""
        export = Path(image_env()["MODEL_EXPORT"])
        if self.bento_home_volume not in self.volumes:
            self.volumes.append(self.bento_home_volume)
        started = time.monotonic()
        self.podman("run", "--rm", "--network", "none", "--read-only", "--cap-drop", "ALL",
                    "--security-opt", "no-new-privileges", "--tmpfs", "/tmp",
                    "-e", f"BENTOML_HOME={BENTOML_SCRATCH_HOME}",
                    # :U hands the fresh volume to the image's user (uid 1034), as fsGroup does.
                    "-v", f"{self.bento_home_volume}:{BENTOML_SCRATCH_HOME}:U",
                    "-v", f"{export.parent}:/import:ro", self.images["bento"],
                    "bentoml", "models", "import", f"/import/{export.name}", timeout=300)
        return time.monotonic() - started

    def start_bento(self) -> None:
        """Import the model, then start the server and wait for /readyz (both timed)."""
        self.timings["model import"] = self.import_model()
        started = time.monotonic()
        self.run("bento", "BENTOML_HOST=127.0.0.1", f"BENTOML_PORT={self.ports['bento']}",
                 f"BENTOML_HOME={BENTOML_SCRATCH_HOME}",
                 volume=(self.bento_home_volume, BENTOML_SCRATCH_HOME))
        self.wait("bento", "/readyz", timeout=180)
        self.timings["run to /readyz"] = time.monotonic() - started

    def prepare_database(self) -> None:
        """What the dev compose file runs before the gateway: migrate, then import the sample
        (the image sets no default data directory and never imports by itself)."""
        volume = f"{self.gateway_volume}:/var/lib/gateway"
        if self.gateway_volume not in self.volumes:
            self.volumes.append(self.gateway_volume)
        for command in (["alembic", "upgrade", "head"],
                        ["python", "-m", "gateway.importer", "/app/data/sample", "--if-empty"]):
            self.podman("run", "--rm", "--network", "host", "--read-only", "--cap-drop", "ALL",
                        "--security-opt", "no-new-privileges", "-v", volume,
                        self.images["gateway"], *command)

    def start_gateway(self) -> None:
        self.prepare_database()
        self.run("gateway", "UVICORN_HOST=127.0.0.1", f"UVICORN_PORT={self.ports['gateway']}",
                 f"BENTO_URL={self.url('bento')}",
                 volume=(self.gateway_volume, "/var/lib/gateway"))
        self.wait("gateway", "/ready", timeout=120)

    def start_frontend(self) -> None:
        self.run("frontend", f"NGINX_PORT=127.0.0.1:{self.ports['frontend']}",
                 f"GATEWAY_ADDRESS=127.0.0.1:{self.ports['gateway']}")
        self.wait("frontend", "/healthz", timeout=60)

    def start(self) -> "Stack":
        try:
            self.start_bento()
            self.start_gateway()
            self.start_frontend()
        except BaseException:
            self.stop()
            raise
        return self

    def wait(self, name: str, path: str, timeout: float) -> None:
        """Poll `path` until it answers 200; fail early, with the log, if the container stops."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                return wait_http(self.url(name) + path, timeout=3)
            except TimeoutError:
                state = self.podman("inspect", "--format", "{{.State.Status}}",
                                    self.containers[name], check=False)
                if state != "running" or time.monotonic() > deadline:
                    raise TimeoutError(f"{name} ({state}): {path} did not answer 200 within "
                                       f"{timeout}s\n--- container log ---\n{self.logs(name)}")

    def logs(self, name: str) -> str:
        container_id = self.containers.get(name)
        if not container_id:
            return ""
        return self.podman("logs", "--tail", "60", container_id, check=False, with_stderr=True)

    def remove(self, name: str) -> None:
        container_id = self.containers.pop(name, None)
        if container_id:
            self.podman("rm", "--force", "--time", "10", container_id, check=False)

    def stop(self) -> None:
        for name in list(self.containers):
            self.remove(name)
        for volume in self.volumes:
            self.podman("volume", "rm", "--force", volume, check=False)
        self.volumes.clear()


def check_spa(stack: Stack) -> str:
    """The SPA's index and one hashed asset load through nginx with the intended caching."""
    base = stack.url("frontend")
    index = httpx.get(base + "/", timeout=5)
    assert index.status_code == 200, index.text[:500]
    assert index.headers["content-type"].startswith("text/html")
    assert index.headers.get("cache-control") == "no-cache"
    assets = re.findall(r'(?:src|href)="(/assets/[^"]+\.(?:js|css))"', index.text)
    assert assets, f"no hashed assets referenced in index.html:\n{index.text[:800]}"
    asset = httpx.get(base + assets[0], timeout=5)
    assert asset.status_code == 200 and len(asset.content) > 0, assets[0]
    assert "immutable" in asset.headers.get("cache-control", "")
    route = httpx.get(base + "/browse", timeout=5)  # a client-side route falls back to the SPA
    assert route.status_code == 200 and route.text == index.text
    return f"SPA: index.html + {len(assets)} hashed assets ({assets[0]})"


def check_recommendations(stack: Stack, user_id: str = SAMPLE_USER) -> str:
    """nginx -> gateway -> Bento: a sample user's recommendations from the imported model."""
    base = stack.url("frontend")
    answer = httpx.get(f"{base}/api/users/{user_id}/recommendations", params={"k": 5},
                       timeout=10)
    assert answer.status_code == 200, answer.text[:500]
    body = answer.json()
    assert body["user_id"] == user_id and body["strategy"] == "personalized", body
    items = body["items"]
    assert len(items) == 5, body
    assert all(item["playlist_id"] and item["name"] for item in items), items
    model = httpx.get(base + "/api/model", timeout=10).json()
    assert body["model"] == model["tag"], (body["model"], model)
    assert model["tag"].startswith("playlist_recommender:"), model
    ids = ", ".join(item["playlist_id"] for item in items)
    return f"recommendations for {user_id} from {body['model']}: {ids}"


def check_healthchecks(stack: Stack) -> str:
    """Each image's own HEALTHCHECK passes (run once; podman has no systemd timers here)."""
    for name in ("gateway", "frontend"):
        stack.podman("healthcheck", "run", stack.containers[name])
    return "HEALTHCHECK passes in gateway and frontend"


def check_non_root(stack: Stack) -> str:
    uids = {name: stack.podman("exec", cid, "id", "-u") for name, cid in stack.containers.items()}
    assert all(uid != "0" for uid in uids.values()), uids
    return "non-root: " + ", ".join(f"{name} uid {uid}" for name, uid in uids.items())


CHECKS = (check_spa, check_recommendations, check_healthchecks, check_non_root)
# Inside the Spark image, as its user, with no network but loopback: a local[2] Spark job sums a
# Gram through bento.spark (Java, PySpark, the bento code) and it equals the local sum.
SPARK_PROBE = """
import os
import scipy.sparse as sp
from bento.recsys import stats
from bento.spark import JDBC_JAR, Spark
x = sp.random(60, 25, density=0.3, format="csr", random_state=0)
x.data[:] = 1
engine = Spark()
with stats.summed_by(engine):
    summed = stats.gram(x)
engine.close()
assert abs(summed - stats.gram(x)).max() == 0 and JDBC_JAR.is_file()
print(f"uid {os.getuid()}: the Spark Gram equals the local one")
"""


def check_spark_image(podman: Podman, image: str) -> str:
    """The Spark retrain image runs a Spark job, and its entrypoint starts spark-submit for
    Spark on Kubernetes' `driver` command."""
    run = ("run", "--rm", "--network", "none", "--read-only", "--tmpfs", "/tmp")
    job = podman(*run, image, "python", "-c", SPARK_PROBE, timeout=600).splitlines()[-1]
    version = podman(*run, "-e", "SPARK_DRIVER_BIND_ADDRESS=127.0.0.1", image, "driver",
                     "--version", with_stderr=True)
    if "version 4.3.0" not in version:
        raise RuntimeError(f"`driver --version` in {image} did not start spark-submit:\n{version}")
    return f"{image}: {job}; `driver` starts spark-submit 4.3.0"


def podman_and_images() -> tuple[Podman, dict[str, str]]:
    """podman configured as env.sh says, and the tags of the three images by service name."""
    env = image_env()
    images = {name: env[f"{name.upper()}_IMAGE"] for name in ("bento", "gateway", "frontend")}
    return Podman({name: env[name] for name in PODMAN_ENV}), images


def main() -> int:
    podman, images = podman_and_images()
    stack = Stack(podman, images)
    print(f"smoke: starting {', '.join(images.values())} on ports {stack.ports}", flush=True)
    try:
        stack.start()
        for check in CHECKS:
            print(f"smoke: ok  {check(stack)}", flush=True)
    finally:
        stack.stop()
    print(f"smoke: ok  {check_spark_image(podman, image_env()['SPARK_IMAGE'])}", flush=True)
    print("smoke: all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
