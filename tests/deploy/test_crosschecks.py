"""Cross-checks between manifests, workflows and code: each passes on the repo and fails when
fed a deliberately broken copy."""
import copy

import pytest

from tests.deploy import crosschecks as cc
from tests.deploy.manifests import OVERLAYS, REPO

CD_YML = REPO / ".github" / "workflows" / "cd.yml"


def find(objects, kind, name):
    return next(o for o in objects if o["kind"] == kind and o["metadata"]["name"] == name)


@pytest.fixture
def prod(rendered):
    return copy.deepcopy(rendered["prod"])


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_services_select_deployment_pods(rendered, overlay):
    assert cc.selector_errors(rendered[overlay]) == []


def test_a_service_selecting_no_pods_fails(prod):
    find(prod, "Service", "gateway")["spec"]["selector"]["app.kubernetes.io/name"] = "gatway"
    [error] = cc.selector_errors(prod)
    assert "Service/gateway" in error


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_probes_and_target_ports_are_declared_container_ports(rendered, overlay):
    assert cc.port_errors(rendered[overlay]) == []


def test_an_undeclared_probe_port_or_target_port_fails(prod):
    bento = find(prod, "Deployment", "bento")
    bento["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]["httpGet"]["port"] = 3001
    find(prod, "Service", "frontend")["spec"]["ports"][0]["targetPort"] = "web"
    errors = cc.port_errors(prod)
    assert len(errors) == 2
    assert "readinessProbe port 3001" in errors[0] and "targetPort 'web'" in errors[1]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_overlay_images_are_the_ones_cd_pushes_tagged_by_commit(rendered, overlay):
    kustomization = cc.load(REPO / "k8s" / "overlays" / overlay / "kustomization.yaml")
    assert cc.cd_images(CD_YML.read_text()) == ("ghcr.io", {
        "playlist-recs-bento", "playlist-recs-gateway", "playlist-recs-frontend"})
    assert cc.image_errors(kustomization, rendered[overlay], CD_YML.read_text()) == []


def test_a_latest_tag_an_unbuilt_image_or_an_unused_entry_fails(prod):
    kustomization = cc.load(REPO / "k8s" / "overlays" / "prod" / "kustomization.yaml")
    kustomization["images"][0]["newTag"] = "latest"
    kustomization["images"][1]["newName"] = "docker.io/someone/playlist-recs-gateway"
    # What a typo in an images: name renders: the base's placeholder, left unreplaced.
    find(prod, "Deployment", "frontend")["spec"]["template"]["spec"]["containers"][0][
        "image"] = "playlist-recs-frontend"
    errors = cc.image_errors(kustomization, prod, CD_YML.read_text())
    assert any("'latest' is not a commit SHA" in e for e in errors)
    assert any("docker.io/someone/playlist-recs-gateway is not one cd.yml pushes" in e
               for e in errors)
    assert any("playlist-recs-frontend is set but no container uses it" in e for e in errors)
    assert any("container image playlist-recs-frontend is not set" in e for e in errors)


def test_an_image_cd_no_longer_pushes_fails(prod):
    kustomization = cc.load(REPO / "k8s" / "overlays" / "prod" / "kustomization.yaml")
    cd_text = CD_YML.read_text().replace("${{ env.FRONTEND_IMAGE }}", "frontend")
    [error] = cc.image_errors(kustomization, prod, cd_text)
    assert "playlist-recs-frontend is not one cd.yml pushes" in error


@pytest.fixture(scope="module")
def readers():
    return cc.code_readers()


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_env_var_names_are_ones_the_code_reads(rendered, readers, overlay):
    assert cc.env_errors(rendered[overlay], readers) == []


def test_a_misspelled_env_var_fails(prod, readers):
    config = next(o for o in prod if o["kind"] == "ConfigMap"
                  and o["metadata"]["name"].startswith("gateway-config"))
    config["data"]["BENTO_TIMEOUT_SECONDS"] = "1.0"
    config["data"]["BENTO_TIMEOUT"] = "1.0"
    gateway = find(prod, "Deployment", "gateway")
    gateway["spec"]["template"]["spec"]["containers"][0]["env"].append(
        {"name": "DATABASE_URI", "value": "x"})
    errors = cc.env_errors(prod, readers)
    assert [e.split(": ")[1] for e in errors] == [
        "BENTO_TIMEOUT is set but the gateway code never reads it",
        "DATABASE_URI is set but the gateway code never reads it"]


def test_env_readers_follow_the_code_not_comments(tmp_path, readers):
    assert readers["gateway"]("BENTO_TIMEOUT_SECONDS")   # pydantic-settings field
    assert readers["bento"]("RECOMMENDER_MODEL")         # os.environ.get("RECOMMENDER_MODEL")
    assert readers["bento"]("BENTOML_HOME")              # read by BentoML itself
    assert not readers["bento"]("BENTO_TIMEOUT_SECONDS")  # the gateway's, not the Bento's
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "ARCHITECTURE.md").write_text("| gateway | 8000 | `ONLY_THIS`: 1 |\n")
    (tmp_path / "gateway").mkdir()
    (tmp_path / "gateway" / "settings.py").write_text("# DATABASE_URL is documented here\n")
    scratch = cc.code_readers(tmp_path)
    assert not scratch["gateway"]("DATABASE_URL")
    assert scratch["frontend"]("NGINX_PORT") is False   # no code, no docs row: nothing passes


def test_application_points_at_the_prod_overlay_inside_its_project(argocd_objects, rendered):
    app, project = (next(o for o in argocd_objects if o["kind"] == k)
                    for k in ("Application", "AppProject"))
    namespace = find(rendered["prod"], "Namespace", "playlist-recs")["metadata"]["name"]
    assert app["spec"]["source"]["path"] == "k8s/overlays/prod"
    assert cc.application_errors(app, project, namespace) == []


def test_an_application_path_that_does_not_exist_fails(argocd_objects):
    app, project = (copy.deepcopy(next(o for o in argocd_objects if o["kind"] == k))
                    for k in ("Application", "AppProject"))
    app["spec"]["source"]["path"] = "k8s/overlays/production"
    app["spec"]["destination"]["namespace"] = "default"
    errors = cc.application_errors(app, project, "playlist-recs")
    assert len(errors) == 3
    assert "k8s/overlays/production has no kustomization.yaml" in errors[0]


PIN = REPO / "k8s" / "overlays" / "prod" / "model-version.env"


def test_prod_bento_pulls_the_pinned_version_and_serves_it(rendered):
    assert cc.model_pin_errors(rendered["prod"], PIN.read_text()) == []


def test_a_bento_not_serving_the_pin_fails(prod):
    bento = find(prod, "Deployment", "bento")["spec"]["template"]["spec"]
    pull = bento["initContainers"][0]
    pull["command"][pull["command"].index("$(MODEL_VERSION)")] = "7"
    del bento["containers"][0]["args"]
    errors = cc.model_pin_errors(prod, "MODEL_VERSION=latest\n")
    assert len(errors) == 4
    assert "pins 'latest'" in errors[0] and "--version is '7'" in errors[1]
    assert "not the pinned 'latest'" in errors[2] and "baked model" in errors[3]
    bento["initContainers"] = []
    assert cc.model_pin_errors(prod, PIN.read_text()) == [
        "Deployment/bento: no initContainer runs python -m bento.registry pull"]


def test_the_registry_info_file_must_be_shared_with_the_bento(prod):
    bento = find(prod, "Deployment", "bento")["spec"]["template"]["spec"]
    bento["initContainers"][0]["volumeMounts"] = [
        m for m in bento["initContainers"][0]["volumeMounts"] if m["name"] != "bentoml-home"]
    [error] = cc.model_pin_errors(prod, PIN.read_text())
    assert "not on a volume both containers mount" in error


def test_the_cronjob_runs_bento_retrain_with_the_bentos_image_and_limits(rendered):
    assert cc.retrain_cronjob_errors(rendered["prod"]) == []
    assert cc.retrain_cronjob_errors(rendered["dev"]) == [
        "no CronJob runs python -m bento.retrain"]


def test_a_drifting_cronjob_fails(prod):
    job = find(prod, "CronJob", "retrain")["spec"]["jobTemplate"]["spec"]["template"]["spec"][
        "containers"][0]
    job["image"] = "ghcr.io/example-org/playlist-recs-gateway:x"
    job["env"] = [{"name": "DATABASE_URL", "value": "postgresql://u:p@db/x"},  # in the manifest
                  {"name": "RETRAIN_MEMORY_LIMIT_MIB", "value": "4096"},
                  {"name": "MLFLOW_TRACKING_URI", "value": "http://mlflow-server:5000"}]
    errors = cc.retrain_cronjob_errors(prod)
    assert len(errors) == 4
    assert "is not the Bento's" in errors[0] and "not the Bento's memory limit (1024" in errors[1]
    assert "the database URL is not a file mounted from a Secret" in errors[2]
    assert "'http://mlflow-server:5000' is not a Service" in errors[3]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_appproject_allows_every_rendered_kind(rendered, argocd_objects, overlay):
    project = next(o for o in argocd_objects if o["kind"] == "AppProject")
    assert cc.project_kind_errors(rendered[overlay], project) == []


def test_a_kind_the_appproject_does_not_allow_fails(prod, argocd_objects):
    project = copy.deepcopy(next(o for o in argocd_objects if o["kind"] == "AppProject"))
    project["spec"]["namespaceResourceWhitelist"] = [
        entry for entry in project["spec"]["namespaceResourceWhitelist"]
        if entry["kind"] != "CronJob"]
    assert cc.project_kind_errors(prod, project) == [
        "CronJob (group 'batch') is rendered but the AppProject does not allow it"]
