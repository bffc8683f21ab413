"""Strict schema validation: Kubernetes objects (kubernetes-validate) and ArgoCD objects (CRDs)."""
import copy

import pytest

from tests.deploy.manifests import OVERLAYS, K8S_VERSION, argocd_errors, k8s_schema_errors


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_rendered_object_is_valid_for_kubernetes(rendered, overlay):
    assert k8s_schema_errors(rendered[overlay]) == []


def first(objects, kind):
    return copy.deepcopy(next(o for o in objects if o["kind"] == kind))


def test_an_unknown_field_fails(rendered):
    deployment = first(rendered["prod"], "Deployment")
    deployment["spec"]["template"]["spec"]["containers"][0]["livenesProbe"] = {}
    [error] = k8s_schema_errors([deployment])
    assert "livenesProbe" in error


def test_a_wrong_type_fails(rendered):
    service = first(rendered["prod"], "Service")
    service["spec"]["ports"][0]["port"] = "eighty"
    assert k8s_schema_errors([service])


def test_an_unknown_kind_fails_instead_of_warning(rendered):
    deployment = first(rendered["prod"], "Deployment")
    deployment["kind"] = "Deploymnet"
    [error] = k8s_schema_errors([deployment])
    assert "Deploymnet" in error and K8S_VERSION[:4] in error


def test_argocd_objects_are_valid_for_their_crds(argocd_objects, validators):
    assert {o["kind"] for o in argocd_objects} == {"Application", "AppProject"}
    assert argocd_errors(argocd_objects, validators) == []


def test_argocd_unknown_field_fails(argocd_objects, validators):
    app = copy.deepcopy(next(o for o in argocd_objects if o["kind"] == "Application"))
    app["spec"]["syncPolicy"]["automated"]["selfheal"] = True
    [error] = argocd_errors([app], validators)
    assert "selfheal" in error


def test_argocd_missing_required_field_wrong_type_and_unknown_kind_fail(argocd_objects,
                                                                        validators):
    app = copy.deepcopy(next(o for o in argocd_objects if o["kind"] == "Application"))
    del app["spec"]["destination"]
    [error] = argocd_errors([app], validators)
    assert "'destination' is a required property" in error
    project = copy.deepcopy(next(o for o in argocd_objects if o["kind"] == "AppProject"))
    project["spec"]["sourceRepos"] = "https://example.com/repo.git"
    [error] = argocd_errors([project], validators)
    assert "sourceRepos" in error
    assert argocd_errors([dict(project, kind="ApplicationSet")], validators)
