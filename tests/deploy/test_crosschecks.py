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
def test_overlay_images_are_the_ones_cd_pushes_pinned_by_digest(rendered, overlay):
    kustomization = cc.load(REPO / "k8s" / "overlays" / overlay / "kustomization.yaml")
    assert cc.cd_images(CD_YML.read_text()) == ("ghcr.io", {
        "playlist-recs-bento", "playlist-recs-gateway", "playlist-recs-frontend",
        "playlist-recs-bento-spark"})
    assert cc.image_errors(kustomization, rendered[overlay], CD_YML.read_text()) == []


def test_the_spark_image_cd_pushes_is_pinned_by_its_component():
    assert cc.component_pins() == {"playlist-recs-bento-spark": "spark-retrain"}
    component = cc.load(REPO / "k8s" / "components" / "spark-retrain" / "kustomization.yaml")
    registry, built = cc.cd_images(CD_YML.read_text())
    assert [cc.pin_errors(image, registry, built) for image in component["images"]] == [[]]
    [image] = component["images"]
    assert cc.pin_errors({**image, "newName": "docker.io/x/playlist-recs-bento-spark",
                          "newTag": "latest"}, registry, built) == [
        f"image docker.io/x/playlist-recs-bento-spark is not one cd.yml pushes ({registry}: "
        f"{built})",
        "image docker.io/x/playlist-recs-bento-spark is not pinned by a sha256 digest alone "
        f"(tag 'latest', digest {image['digest']!r})"]


def test_an_image_cd_pushes_that_nothing_deploys_fails(prod):
    kustomization = cc.load(REPO / "k8s" / "overlays" / "prod" / "kustomization.yaml")
    cd_text = CD_YML.read_text().replace(
        "  SPARK_IMAGE: playlist-recs-bento-spark\n",
        "  SPARK_IMAGE: playlist-recs-bento-spark\n  EXTRA_IMAGE: playlist-recs-extra\n"
    ).replace("${{ env.SPARK_IMAGE }}", "${{ env.SPARK_IMAGE }}${{ env.EXTRA_IMAGE }}")
    assert cc.image_errors(kustomization, prod, cd_text) == [
        "cd.yml pushes playlist-recs-extra but the overlay does not deploy it"]


def test_a_tag_instead_of_a_digest_an_unbuilt_image_or_an_unused_entry_fails(prod):
    kustomization = cc.load(REPO / "k8s" / "overlays" / "prod" / "kustomization.yaml")
    kustomization["images"][0]["newTag"] = "latest"
    del kustomization["images"][0]["digest"]
    kustomization["images"][1]["newName"] = "docker.io/someone/playlist-recs-gateway"
    # What a typo in an images: name renders: the base's placeholder, left unreplaced.
    find(prod, "Deployment", "frontend")["spec"]["template"]["spec"]["containers"][0][
        "image"] = "playlist-recs-frontend"
    errors = cc.image_errors(kustomization, prod, CD_YML.read_text())
    assert any("not pinned by a sha256 digest alone (tag 'latest', digest None)" in e
               for e in errors)
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


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_each_overlay_has_an_application_inside_the_project(argocd_objects, rendered, overlay):
    project = next(o for o in argocd_objects if o["kind"] == "AppProject")
    [app] = [o for o in argocd_objects if o["kind"] == "Application"
             and o["spec"]["source"]["path"] == f"k8s/overlays/{overlay}"]
    [namespace] = [o["metadata"]["name"] for o in rendered[overlay] if o["kind"] == "Namespace"]
    assert cc.application_errors(app, project, namespace) == []


def test_an_application_path_that_does_not_exist_fails(argocd_objects):
    app, project = (copy.deepcopy(next(o for o in argocd_objects if o["kind"] == k))
                    for k in ("Application", "AppProject"))
    app["spec"]["source"]["path"] = "k8s/overlays/production"
    app["spec"]["destination"]["namespace"] = "default"
    errors = cc.application_errors(app, project, "playlist-recs")
    assert len(errors) == 3
    assert "k8s/overlays/production has no kustomization.yaml" in errors[0]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_schema_is_migrated_before_the_gateway_and_only_dev_seeds(rendered, overlay):
    assert cc.migration_errors(rendered[overlay], overlay) == []


def test_a_migration_job_that_is_no_presync_hook_fails(prod):
    job = find(prod, "Job", "gateway-migrate")
    del job["metadata"]["annotations"]["argocd.argoproj.io/hook"]
    del job["metadata"]["annotations"]["argocd.argoproj.io/hook-delete-policy"]
    container = job["spec"]["template"]["spec"]["containers"][0]
    container["env"][0]["valueFrom"]["secretKeyRef"]["name"] = "gateway-database"
    container["image"] = "ghcr.io/example-org/playlist-recs-gateway:old"
    errors = cc.migration_errors(prod, "prod")
    assert [e.split(" ", 1)[1] for e in errors] == [
        "is not an ArgoCD PreSync hook", "has no hook-delete-policy",
        "image ghcr.io/example-org/playlist-recs-gateway:old is not the gateway's",
        "does not use its own migrator database Secret"]
    prod.remove(find(prod, "Job", "gateway-migrate"))
    assert cc.migration_errors(prod, "prod") == [
        "0 Jobs run alembic upgrade head (want exactly one)"]


def test_a_migration_job_without_a_way_to_the_database_fails(prod):
    find(prod, "NetworkPolicy", "gateway-migrate")["spec"]["egress"] = []
    [error] = cc.migration_errors(prod, "prod")
    assert "no NetworkPolicy lets it reach the database" in error


def test_seeding_the_sample_outside_dev_fails(prod, rendered):
    gateway = find(prod, "Deployment", "gateway")
    dev_gateway = find(rendered["dev"], "Deployment", "gateway")
    gateway["spec"]["template"]["spec"]["initContainers"] = copy.deepcopy(
        dev_gateway["spec"]["template"]["spec"]["initContainers"])
    [error] = cc.migration_errors(prod, "prod")
    assert error == "Deployment/gateway/seed imports data: only the dev overlay seeds the sample"


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
        k for k in project["spec"]["namespaceResourceWhitelist"] if k["kind"] != "Job"]
    assert cc.project_kind_errors(prod, project) == ["the AppProject does not allow Job (batch)"]


def test_a_third_party_image_must_carry_a_release_tag(prod):
    kustomization = cc.load(REPO / "k8s" / "overlays" / "prod" / "kustomization.yaml")
    find(prod, "Deployment", "oauth2-proxy")["spec"]["template"]["spec"]["containers"][0][
        "image"] = "quay.io/oauth2-proxy/oauth2-proxy:latest"
    [error] = cc.image_errors(kustomization, prod, CD_YML.read_text())
    assert "oauth2-proxy:latest is not pinned to a release tag" in error


def test_a_misspelled_oauth2_proxy_option_fails(prod, readers):
    proxy = find(prod, "Deployment", "oauth2-proxy")
    proxy["spec"]["template"]["spec"]["containers"][0]["env"].append(
        {"name": "OAUTH2_PROXY_SET_XAUTH_REQUEST", "value": "true"})
    [error] = cc.env_errors(prod, readers)
    assert "OAUTH2_PROXY_SET_XAUTH_REQUEST is set but the oauth2-proxy code never reads it" in error


def test_prod_signs_listeners_in_through_oauth2_proxy(rendered):
    assert cc.prod_auth_errors(rendered["prod"]) == []
    # Dev is demo mode on purpose (a scratch cluster): the same check says so.
    assert "gateway AUTH_MODE is 'demo', not 'proxy'" in cc.prod_auth_errors(rendered["dev"])


def test_prod_auth_check_fails_on_each_weakening(prod):
    config = next(o for o in prod if o["kind"] == "ConfigMap"
                  and o["metadata"]["name"].startswith("gateway-config"))
    config["data"]["AUTH_MODE"] = "demo"
    config["data"]["AUTH_DEMO_ALLOW_REMOTE"] = "true"
    proxy = find(prod, "Deployment", "oauth2-proxy")
    env = proxy["spec"]["template"]["spec"]["containers"][0]["env"]
    next(e for e in env if e["name"] == "OAUTH2_PROXY_SET_XAUTHREQUEST")["value"] = "false"
    ingress = find(prod, "Ingress", "frontend")["metadata"]["annotations"]
    del ingress["nginx.ingress.kubernetes.io/auth-url"]
    ingress["nginx.ingress.kubernetes.io/auth-response-headers"] = "X-Auth-Request-User"
    del find(prod, "Ingress", "oauth2-proxy")["metadata"]["annotations"][
        "nginx.ingress.kubernetes.io/limit-rps"]
    find(prod, "NetworkPolicy", "gateway")["spec"]["ingress"][0]["from"].append(
        {"podSelector": {"matchLabels": {"app.kubernetes.io/name": "frontend"}}})
    # Issue 25, defect 7: the monitoring namespace let onto the API port.
    find(prod, "NetworkPolicy", "allow-metrics-scrape")["spec"]["ingress"][0]["ports"].append(
        {"protocol": "TCP", "port": 8000})
    errors = cc.prod_auth_errors(prod)
    expected = ["AUTH_MODE is 'demo'", "AUTH_DEMO_ALLOW_REMOTE=true", "SET_XAUTHREQUEST",
                "without oauth2-proxy's auth-url", "lacks X-Auth-Request-Email",
                "lacks X-Auth-Request-Groups", "Ingress/oauth2-proxy: no limit-rps",
                "NetworkPolicy/gateway: admits", "NetworkPolicy/allow-metrics-scrape: admits"]
    assert len(errors) == len(expected), errors
    for fragment in expected:
        assert any(fragment in error for error in errors), (fragment, errors)


NGINX_CONF = REPO / "frontend" / "nginx.conf"


def test_nginx_strips_client_sent_identity_headers():
    assert cc.nginx_identity_errors(NGINX_CONF.read_text()) == []


def test_nginx_identity_check_fails_when_a_header_passes_through():
    text = NGINX_CONF.read_text()
    dropped = text.replace('proxy_set_header X-Auth-Request-Groups "";', "")
    assert cc.nginx_identity_errors(dropped) == ["nginx.conf does not strip X-Auth-Request-Groups"]
    shadowed = text.replace("location /api/ {", "location /api/ {\n    proxy_set_header A b;")
    [error] = cc.nginx_identity_errors(shadowed)
    assert "is not inherited there" in error


GATEWAY_DOCKERFILE = REPO / "gateway" / "Dockerfile"


def test_gateway_runs_with_its_connection_limits(rendered):
    for overlay in OVERLAYS:
        assert cc.gateway_limits_errors(GATEWAY_DOCKERFILE.read_text(), rendered[overlay]) == []


def test_gateway_limits_check_fails_without_them(prod):
    text = GATEWAY_DOCKERFILE.read_text().replace(
        cc.GATEWAY_CMD, '["uvicorn", "gateway.main:app", "--limit-concurrency", "200"]')
    find(prod, "Deployment", "gateway")["spec"]["template"]["spec"]["containers"][0][
        "args"] = ["uvicorn", "gateway.main:app"]
    errors = cc.gateway_limits_errors(text, prod)
    assert errors == [
        'gateway/Dockerfile CMD is not ["python", "-m", "gateway.serve"]: '
        '["uvicorn", "gateway.main:app", "--limit-concurrency", "200"]',
        "Deployment/gateway: sets args, replacing the image's gateway.serve"]
