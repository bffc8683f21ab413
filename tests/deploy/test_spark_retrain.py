"""k8s/components/spark-retrain on the prod overlay: strictly valid, and held to the same rules."""
import copy

import pytest

from tests.deploy import sparkchecks as sc
from tests.deploy.crosschecks import project_kind_errors
from tests.deploy.manifests import k8s_schema_errors


@pytest.fixture(scope="module")
def objects():
    return sc.render_with_component("prod")


@pytest.fixture(scope="module")
def validator():
    return sc.spark_validator()


def application(objects):
    return copy.deepcopy(next(o for o in objects if o["kind"] == "SparkApplication"))


def test_the_spark_application_is_valid_for_the_operator_crd(objects, validator):
    api_version, kind, schema = validator
    app = application(objects)
    assert (app["apiVersion"], app["kind"]) == (api_version, kind)
    assert sc.crd_errors(app, schema) == []
    assert "--engine" in app["spec"]["arguments"] and "spark" in app["spec"]["arguments"]


def test_every_other_object_is_valid_for_kubernetes(objects):
    assert k8s_schema_errors([o for o in objects if o["kind"] != "SparkApplication"]) == []


def test_pods_have_resources_run_as_non_root_and_are_fenced(objects):
    assert sc.pod_errors(application(objects), objects) == []


def test_references_resolve_to_the_rendered_names(objects):
    app = application(objects)
    config_maps = {o["metadata"]["name"] for o in objects if o["kind"] == "ConfigMap"}
    refs = [e["configMapRef"]["name"] for e in app["spec"]["driver"]["envFrom"]]
    assert refs and set(refs) <= config_maps
    assert app["metadata"]["namespace"] == "playlist-recs"
    accounts = {o["metadata"]["name"] for o in objects if o["kind"] == "ServiceAccount"}
    assert app["spec"]["driver"]["serviceAccount"] in accounts


def test_the_appproject_allows_the_component(objects, argocd_objects):
    project = next(o for o in argocd_objects if o["kind"] == "AppProject")
    assert project_kind_errors(objects, project) == []


def test_bad_spark_applications_fail(objects, validator):
    _, _, schema = validator
    typo = application(objects)
    typo["spec"]["driver"]["memoryLimt"] = "1Gi"
    [error] = sc.crd_errors(typo, schema)
    assert "memoryLimt" in error
    missing = application(objects)
    del missing["spec"]["sparkVersion"]
    assert any("'sparkVersion' is a required property" in e for e in sc.crd_errors(missing, schema))
    wrong = application(objects)
    wrong["spec"]["mode"] = "standalone"
    assert sc.crd_errors(wrong, schema)


def test_unsafe_or_unfenced_pods_fail(objects):
    app = application(objects)
    app["spec"]["image"] = "ghcr.io/example-org/playlist-recs-bento-spark:latest"
    app["spec"]["executor"]["podSecurityContext"]["runAsNonRoot"] = False
    del app["spec"]["driver"]["memoryLimit"]
    app["spec"]["executor"]["labels"] = {"app.kubernetes.io/name": "other"}
    errors = sc.pod_errors(app, objects)
    assert errors == [
        "SparkApplication/retrain-spark: image ghcr.io/example-org/playlist-recs-bento-spark:"
        "latest is not pinned by digest",
        "SparkApplication/retrain-spark: driver has no memoryLimit",
        "SparkApplication/retrain-spark: executor pod may run as root",
        "SparkApplication/retrain-spark: no NetworkPolicy of its own fences the executor both "
        "ways",
    ]
