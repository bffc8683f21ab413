"""Every overlay renders with `kubectl kustomize`, and the base keeps the repo's conventions."""
import os
import shutil

import pytest
import yaml

from tests.deploy.manifests import (MIN_KUBECTL, MIN_KUSTOMIZE, OVERLAYS, REPO,
                                    RenderError, min_kubectl, render)

BASE = REPO / "k8s" / "base"
EXPECTED_KINDS = {"Namespace", "ServiceAccount", "ConfigMap", "Deployment", "Service",
                  "HorizontalPodAutoscaler", "PodDisruptionBudget", "NetworkPolicy"}
KUSTOMIZATIONS = [REPO / "k8s" / "overlays" / name for name in OVERLAYS] + sorted(
    (REPO / "k8s" / "examples").glob("*/")) + [REPO / "k8s" / "cluster"]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_overlay_renders_every_kind_into_its_namespace(rendered, overlay):
    objects = rendered[overlay]
    assert EXPECTED_KINDS <= {o["kind"] for o in objects}
    namespaces = {o["metadata"]["name"] for o in objects if o["kind"] == "Namespace"}
    assert len(namespaces) == 1
    assert {o["metadata"].get("namespace") for o in objects if o["kind"] != "Namespace"} \
        == namespaces


def test_only_prod_has_a_public_host(rendered):
    """Dev runs demo mode (anyone is admin): no Ingress, so only a port-forward reaches it."""
    assert [o for o in rendered["dev"] if o["kind"] == "Ingress"] == []
    assert {o["metadata"]["name"] for o in rendered["prod"] if o["kind"] == "Ingress"} == {
        "frontend", "oauth2-proxy"}


@pytest.fixture(scope="module")
def oldest_kubectl():
    kubectl = min_kubectl()
    if kubectl is None:
        message = (f"no kubectl with kustomize {MIN_KUSTOMIZE} at {MIN_KUBECTL} "
                   "(set MIN_KUSTOMIZE_KUBECTL)")
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return kubectl


@pytest.mark.parametrize("path", KUSTOMIZATIONS, ids=lambda p: p.name)
def test_the_oldest_supported_kustomize_renders_the_same_objects(path, oldest_kubectl):
    """Argo CD renders with the kustomize it bundles; 5.5 panicked on a multi-document
    `$patch: delete` file that the newest accepts."""
    assert render(path, oldest_kubectl) == render(path)


def test_the_oldest_kustomize_fails_where_the_newest_does_not(base_copy, oldest_kubectl):
    overlay = base_copy / "overlay"
    (overlay / "deletes.yaml").write_text(
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: bento\n$patch: delete\n---\n"
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: gateway\n$patch: delete\n")
    (overlay / "kustomization.yaml").write_text(
        "resources:\n  - ../base\npatches:\n  - path: deletes.yaml\n")
    assert not any(o["kind"] == "Service" and o["metadata"]["name"] == "bento"
                   for o in render(overlay))
    with pytest.raises(RenderError, match="nil pointer"):
        render(overlay, oldest_kubectl)


def test_prod_reads_database_url_from_a_secret_and_git_holds_no_secret(rendered):
    assert not [o for objs in rendered.values() for o in objs if o["kind"] == "Secret"]
    gateway = next(o for o in rendered["prod"]
                   if o["kind"] == "Deployment" and o["metadata"]["name"] == "gateway")
    env = {e["name"]: e for e in gateway["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert env["DATABASE_URL"]["valueFrom"]["secretKeyRef"] == {
        "name": "gateway-database", "key": "DATABASE_URL"}


def test_base_holds_one_object_per_file_and_lists_every_file():
    listed = set(yaml.safe_load((BASE / "kustomization.yaml").read_text())["resources"])
    files = {p.name for p in BASE.glob("*.yaml")} - {"kustomization.yaml"}
    assert listed == files
    for name in files:
        assert len([d for d in yaml.safe_load_all((BASE / name).read_text()) if d]) == 1, name


@pytest.fixture
def base_copy(tmp_path):
    """A scratch copy of k8s/base with an empty overlay dir beside it (kustomize wants
    relative paths)."""
    shutil.copytree(BASE, tmp_path / "base")
    (tmp_path / "overlay").mkdir()
    return tmp_path


def test_the_scratch_copy_renders(base_copy):
    (base_copy / "overlay" / "kustomization.yaml").write_text("resources:\n  - ../base\n")
    assert render(base_copy / "overlay")


def test_a_missing_resource_fails_to_render(base_copy):
    (base_copy / "overlay" / "kustomization.yaml").write_text(
        "resources:\n  - ../base\n  - missing-file.yaml\n")
    with pytest.raises(RenderError, match="missing-file.yaml"):
        render(base_copy / "overlay")


def test_a_patch_for_an_object_that_does_not_exist_fails(base_copy):
    (base_copy / "overlay" / "patch.yaml").write_text(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: no-such-app\n"
        "spec:\n  replicas: 2\n")
    (base_copy / "overlay" / "kustomization.yaml").write_text(
        "resources:\n  - ../base\npatches:\n  - path: patch.yaml\n")
    with pytest.raises(RenderError, match="no-such-app"):
        render(base_copy / "overlay")
