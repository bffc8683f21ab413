"""Fixtures for the delivery checks: rendered overlays, ArgoCD schemas and the checkov venv."""
import subprocess
from pathlib import Path

import pytest

from tests.deploy.manifests import OVERLAYS, REPO, crd_validators, load_yaml_dir, render

TOOLS_VENV = REPO / ".tools-venv"


@pytest.fixture(scope="session")
def rendered():
    """overlay name -> the objects `kubectl kustomize k8s/overlays/NAME` produces."""
    return {name: render(REPO / "k8s" / "overlays" / name) for name in OVERLAYS}


@pytest.fixture(scope="session")
def argocd_objects():
    return load_yaml_dir(REPO / "argocd")


@pytest.fixture(scope="session")
def validators():
    return crd_validators()


@pytest.fixture(scope="session")
def checkov():
    """The checkov binary from .tools-venv, built by `make tools` on a fresh machine."""
    subprocess.run(["make", "-s", "tools"], cwd=REPO, check=True, timeout=900)
    binary = TOOLS_VENV / "bin" / "checkov"
    assert binary.exists(), "make tools did not install checkov"
    return Path(binary)
