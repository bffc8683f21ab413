"""Fixtures for the container tests: the three images built for real, and running under podman."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from scripts.images.smoke import Podman, Stack, podman_and_images
# The system Chromium for pytest-playwright's `browser`, exactly as the browser tests launch it.
from tests.frontend.conftest import browser_type_launch_args  # noqa: F401
from devtools.procs import REPO_ROOT

BUILD_SCRIPT = REPO_ROOT / "scripts" / "images" / "build.sh"


@pytest.fixture(scope="session")
def built_images(artifacts_dir) -> tuple[Podman, dict[str, str]]:
    """scripts/images/build.sh as `make images` runs it (four images, the Spark one on top of the
    Bento): minutes when fresh, then cached."""
    log_path = artifacts_dir / "images-build.log"
    with open(log_path, "w") as log:
        result = subprocess.run(["bash", str(BUILD_SCRIPT)], cwd=REPO_ROOT, stdout=log,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                env={**os.environ, "PYTHON": sys.executable}, timeout=2400)
    if result.returncode != 0:
        pytest.fail(f"{BUILD_SCRIPT} failed ({result.returncode}):\n"
                    f"{log_path.read_text(errors='replace')[-6000:]}")
    return podman_and_images()


@pytest.fixture(scope="module")
def stack(built_images) -> Stack:
    """Bento, gateway and frontend containers on free loopback ports, removed afterwards."""
    podman, images = built_images
    running = Stack(podman, images).start()
    yield running
    running.stop()
