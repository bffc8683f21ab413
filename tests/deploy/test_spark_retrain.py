"""k8s/components/spark-retrain on the prod overlay: strictly valid, scheduled in place of the
retrain CronJob, and held to the same rules."""
import copy

import pytest

from tests.deploy import sparkchecks as sc
from tests.deploy.crosschecks import project_kind_errors
from tests.deploy.manifests import REPO, k8s_schema_errors, render


@pytest.fixture(scope="module")
def objects():
    return sc.render_with_component("prod")


@pytest.fixture(scope="module")
def validator():
    return sc.spark_validator(crd_file=sc.SCHEDULED_CRD_FILE)


def application(objects):
    return copy.deepcopy(next(o for o in objects if o["kind"] == "ScheduledSparkApplication"))


def test_the_scheduled_application_is_valid_for_the_operator_crds(objects, validator):
    api_version, kind, schema = validator
    app = application(objects)
    assert (app["apiVersion"], app["kind"]) == (api_version, kind)
    assert sc.crd_errors(app, schema) == []
    _, _, application_schema = sc.spark_validator()
    assert sc.crd_errors(sc.as_application(app), application_schema) == []
    arguments = app["spec"]["template"]["arguments"]
    assert arguments[:4] == ["--engine", "spark", "--snapshot", "jdbc"]
    assert app["spec"]["template"]["deps"]["jars"] == ["local:///usr/share/java/postgresql.jar"]


def test_it_runs_nightly_in_place_of_the_retrain_cronjob(objects):
    app = application(objects)
    [cronjob] = [o for o in objects if o["kind"] == "CronJob"]
    assert cronjob["spec"]["suspend"] is True
    for field in ("schedule", "timeZone", "concurrencyPolicy"):
        assert app["spec"][field] == cronjob["spec"][field]
    assert app["spec"]["concurrencyPolicy"] == "Forbid"
    unscheduled = render(REPO / "k8s" / "overlays" / "prod")
    assert not next(o for o in unscheduled if o["kind"] == "CronJob")["spec"].get("suspend")


def test_executors_reach_the_database_and_their_peers_only(objects):
    spec = application(objects)["spec"]["template"]
    dns = 53  # allow-dns, every pod's
    assert sc.egress_ports(objects, spec["executor"]["labels"]) == {dns, 5432}
    assert sc.egress_ports(objects, spec["driver"]["labels"]) == {dns, 5432, 5000, 443}
    assert spec["sparkConf"]["spark.authenticate"] == "true"
    assert spec["sparkConf"]["spark.network.crypto.enabled"] == "true"


def test_every_other_object_is_valid_for_kubernetes(objects):
    assert k8s_schema_errors([o for o in objects
                              if o["kind"] != "ScheduledSparkApplication"]) == []


def test_pods_have_resources_run_as_non_root_and_are_fenced(objects):
    assert sc.pod_errors(application(objects), objects) == []


def test_references_resolve_to_the_rendered_names(objects):
    app = application(objects)
    spec = app["spec"]["template"]
    config_maps = {o["metadata"]["name"] for o in objects if o["kind"] == "ConfigMap"}
    refs = [e["configMapRef"]["name"] for e in spec["driver"]["envFrom"]]
    assert refs and set(refs) <= config_maps
    assert app["metadata"]["namespace"] == "playlist-recs"
    accounts = {o["metadata"]["name"] for o in objects if o["kind"] == "ServiceAccount"}
    assert spec["driver"]["serviceAccount"] in accounts


def test_the_appproject_allows_the_component(objects, argocd_objects):
    project = next(o for o in argocd_objects if o["kind"] == "AppProject")
    assert project_kind_errors(objects, project) == []


def test_bad_spark_applications_fail(objects, validator):
    _, _, schema = validator
    typo = application(objects)
    typo["spec"]["template"]["driver"]["memoryLimt"] = "1Gi"
    [error] = sc.crd_errors(typo, schema)
    assert "memoryLimt" in error
    missing = application(objects)
    del missing["spec"]["template"]["sparkVersion"]
    assert any("'sparkVersion' is a required property" in e for e in sc.crd_errors(missing, schema))
    unscheduled = application(objects)
    del unscheduled["spec"]["schedule"]
    assert any("'schedule' is a required property" in e
               for e in sc.crd_errors(unscheduled, schema))
    wrong = application(objects)
    wrong["spec"]["template"]["mode"] = "standalone"
    assert sc.crd_errors(wrong, schema)


def test_unsafe_or_unfenced_pods_fail(objects):
    app = application(objects)
    spec = app["spec"]["template"]
    spec["image"] = "ghcr.io/example-org/playlist-recs-bento-spark:latest"
    spec["executor"]["podSecurityContext"]["runAsNonRoot"] = False
    del spec["driver"]["memoryLimit"]
    spec["executor"]["labels"] = {"app.kubernetes.io/name": "other"}
    where = "ScheduledSparkApplication/retrain-spark"
    assert sc.pod_errors(app, objects) == [
        f"{where}: image ghcr.io/example-org/playlist-recs-bento-spark:latest is not pinned by "
        "digest",
        f"{where}: driver has no memoryLimit",
        f"{where}: executor pod may run as root",
        f"{where}: no NetworkPolicy of its own fences the executor both ways",
    ]
