"""Release rules on the rendered overlays and the workflows: each holds on the repo and fails on a
deliberately broken copy (digest pins, no Always pulls, preStop + grace, connection budget, one
namespace owner, CD gated on CI without training, supply chain, PR-based promotion, CI jobs)."""
import copy

import pytest
import yaml

from tests.deploy import release_checks as rc
from tests.deploy.manifests import OVERLAYS, REPO

WORKFLOWS = REPO / ".github" / "workflows"
CD = (WORKFLOWS / "cd.yml").read_text()
CI = (WORKFLOWS / "ci.yml").read_text()


@pytest.fixture
def prod(rendered):
    return copy.deepcopy(rendered["prod"])


def deployment(objects, name):
    return rc.find(objects, "Deployment", name)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_image_is_pinned_by_digest_and_never_pulled_always(rendered, overlay):
    assert rc.image_pin_errors(rendered[overlay]) == []
    policies = {c.get("imagePullPolicy") for _, pod in rc.pod_specs(rendered[overlay])
                for c in rc.all_containers(pod)}
    assert policies == {"IfNotPresent"}


def test_a_tag_or_an_always_pull_fails_also_in_init_containers_and_cronjobs(prod):
    bento = deployment(prod, "bento")["spec"]["template"]["spec"]
    bento["containers"][0]["image"] = "ghcr.io/example-org/playlist-recs-bento:0123abc"
    bento["initContainers"] = [{"name": "import-model", "image": bento["containers"][0]["image"],
                                "imagePullPolicy": "Always"}]
    prod.append({"kind": "CronJob", "metadata": {"name": "retrain"}, "spec": {"jobTemplate": {
        "spec": {"template": {"spec": {"containers": [
            {"name": "retrain", "image": "ghcr.io/x/y@sha256:" + "a" * 64,
             "imagePullPolicy": "Always"}]}}}}}})
    errors = rc.image_pin_errors(prod)
    assert errors == [
        "Deployment/bento: import-model image ghcr.io/example-org/playlist-recs-bento:0123abc "
        "is not pinned by digest",
        "Deployment/bento: import-model pulls Always (a digest never changes: IfNotPresent)",
        "Deployment/bento: bento image ghcr.io/example-org/playlist-recs-bento:0123abc is not "
        "pinned by digest",
        "CronJob/retrain: retrain pulls Always (a digest never changes: IfNotPresent)"]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_deployment_sleeps_in_prestop_within_its_grace_period(rendered, overlay):
    deployments = [o for o in rendered[overlay] if o["kind"] == "Deployment"]
    assert {d["metadata"]["name"] for d in deployments} >= {"bento", "gateway", "frontend"}
    assert rc.shutdown_errors(rendered[overlay]) == []


def test_a_missing_prestop_or_a_grace_period_too_short_fails(prod):
    del deployment(prod, "frontend")["spec"]["template"]["spec"]["containers"][0]["lifecycle"]
    deployment(prod, "gateway")["spec"]["template"]["spec"][
        "terminationGracePeriodSeconds"] = 12
    bento = deployment(prod, "bento")["spec"]["template"]["spec"]["containers"][0]
    bento["lifecycle"]["preStop"] = {"exec": {"command": ["sh", "-c", "sleep 30"]}}
    assert rc.shutdown_errors(prod) == [
        "Deployment/bento: terminationGracePeriodSeconds 40 leaves less than 15s after the 30s "
        "preStop sleep",
        "Deployment/frontend: frontend has no preStop sleep",
        "Deployment/gateway: terminationGracePeriodSeconds 12 leaves less than 15s after the "
        "10s preStop sleep"]


def test_prod_pool_settings_fit_the_connection_budget(rendered):
    _, settings = rc.gateway_settings(rendered["prod"])
    assert {name: settings[name] for name in rc.POOL_SETTINGS} == {
        "DATABASE_POOL_SIZE": "4", "DATABASE_MAX_OVERFLOW": "3"}
    assert rc.connection_budget_errors(rendered["prod"]) == []
    assert rc.connection_budget_errors(rendered["dev"]) == []   # SQLite: no server pool


def gateway_config(objects):
    return next(o for o in objects if o["kind"] == "ConfigMap"
                and o["metadata"]["name"].startswith("gateway-config"))


def test_more_replicas_or_a_bigger_pool_than_the_budget_fails(prod):
    rc.find(prod, "HorizontalPodAutoscaler", "gateway")["spec"]["maxReplicas"] = 12
    assert rc.connection_budget_errors(prod) == [
        "gateway: 13 replicas x 7 connections = 91 > budget 80"]
    del gateway_config(prod)["data"]["DATABASE_MAX_OVERFLOW"]
    assert rc.connection_budget_errors(prod) == [
        "gateway: DATABASE_MAX_OVERFLOW not set for a database server"]


def test_a_server_database_without_a_stated_budget_fails(prod):
    del rc.find(prod, "HorizontalPodAutoscaler", "gateway")["metadata"]["annotations"]
    [error] = rc.connection_budget_errors(prod)
    assert rc.BUDGET_ANNOTATION in error


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_namespace_has_one_owner(argocd_objects, rendered, overlay):
    [app] = [o for o in argocd_objects if o["kind"] == "Application"
             and o["spec"]["source"]["path"] == f"k8s/overlays/{overlay}"]
    assert rc.namespace_owner_errors(app, rendered[overlay]) == []


def test_create_namespace_beside_a_rendered_namespace_fails(argocd_objects, rendered):
    app = copy.deepcopy(next(o for o in argocd_objects if o["kind"] == "Application"))
    app["spec"]["syncPolicy"]["syncOptions"].append("CreateNamespace=true")
    [error] = rc.namespace_owner_errors(app, rendered["prod"])
    assert "CreateNamespace=true while the overlay renders the Namespace" in error
    without = [o for o in rendered["prod"] if o["kind"] != "Namespace"]
    app["spec"]["syncPolicy"]["syncOptions"].remove("CreateNamespace=true")
    assert rc.namespace_owner_errors(app, without) == [
        "Application/playlist-recs-dev: nothing creates the namespace"]


def test_cd_runs_only_after_green_ci_on_the_same_commit_and_never_trains():
    assert rc.cd_gate_errors(CD) == []


def test_cd_on_push_without_the_ci_gate_or_with_training_fails():
    broken = CD.replace("on:\n  workflow_run:", "on:\n  push:\n    branches: [main]\n"
                        "  workflow_run:")
    broken = broken.replace("github.event.workflow_run.conclusion == 'success' &&", "")
    broken = broken.replace("    needs: changes\n", "")
    broken = broken.replace("python scripts/images/placeholder_model.py",
                            "python -m bento.train --data \"$RUNNER_TEMP/data\"")
    assert rc.cd_gate_errors(broken) == [
        "CD is triggered by ['push', 'workflow_run'], not only by CI's workflow_run",
        "changes: starts without requiring CI's success",
        "images: starts without requiring CI's success",
        "CD runs or touches bento.train: code releases never retrain"]
    other = CD.replace("workflows: [CI]", "workflows: [Lint]").replace(
        "github.event.workflow_run.head_sha", "github.sha")
    assert rc.cd_gate_errors(other) == [
        "workflow_run is not CI completed on main",
        "CD does not build the commit CI tested (workflow_run.head_sha)"]


def test_every_image_gets_sbom_provenance_and_a_keyless_signature_by_digest():
    assert rc.supply_chain_errors(CD) == []


def test_a_build_without_attestations_or_oidc_outside_the_signing_job_fails():
    broken = CD.replace("          sbom: true\n", "", 1).replace(
        "--opt provenance=mode=max", "")
    broken = broken.replace("      contents: read\n      packages: write\n    outputs:",
                            "      contents: read\n      packages: write\n      id-token: write\n"
                            "    outputs:")
    broken = broken.replace('"$PREFIX/$BENTO_IMAGE@$BENTO_DIGEST"', '"$PREFIX/$BENTO_IMAGE:latest"')
    assert rc.supply_chain_errors(broken) == [
        "images: bentoml containerize lacks sbom/provenance",
        "images: Build and push the gateway image lacks sbom/provenance=mode=max",
        "images: id-token: write must go with cosign signing, only there",
        "sign: cosign does not sign by digest"]


def test_an_image_built_but_not_signed_or_not_pinned_fails():
    broken = CD.replace(' \\\n            "$PREFIX/$SPARK_IMAGE@$SPARK_DIGEST"', "")
    assert rc.supply_chain_errors(broken) == ["cosign does not sign $SPARK_IMAGE"]
    frontend = '"playlist-recs-frontend=$PREFIX/$FRONTEND_IMAGE@$FRONTEND_DIGEST"'
    broken = CD.replace(f' \\\n            {frontend}', "")
    assert rc.promotion_errors(broken) == ["kustomize edit set image does not pin NAME@DIGEST"]


def test_overlays_change_only_by_app_token_pull_requests_pinning_digests():
    assert rc.promotion_errors(CD) == []


def test_a_direct_push_a_workflow_token_or_a_tag_pin_fails():
    broken = CD.replace("token: ${{ steps.app.outputs.token }}", "token: ${{ github.token }}")
    broken = broken.replace("@$BENTO_DIGEST\" \\\n", ":$RELEASE_SHA\" \\\n")
    broken = broken.replace("      contents: read\n    env:\n      OVERLAY",
                            "      contents: write\n    env:\n      OVERLAY")
    broken = broken.replace("run: gh pr merge", "run: git push origin HEAD:main && gh pr merge")
    broken = broken.replace("if: steps.pr.outputs.pull-request-number != ''", "if: always()")
    assert rc.promotion_errors(broken) == [
        "CD pushes to a branch directly",
        "promote: the workflow token may write contents",
        "no pull request opened with the App's token",
        "kustomize edit set image does not pin NAME@DIGEST",
        "auto-merge must apply to the dev pull request, once it exists"]
    prod = CD.replace("OVERLAY: k8s/overlays/dev", "OVERLAY: k8s/overlays/${{ matrix.overlay }}")
    assert rc.promotion_errors(prod) == ["CD proposes to an overlay other than dev"]


def test_ci_runs_on_the_runner_and_the_manifest_job_installs_no_apt_packages():
    assert rc.ci_errors(CI) == []


def test_a_container_job_or_apt_in_the_manifest_job_fails():
    broken = CI.replace("    runs-on: ubuntu-24.04\n    timeout-minutes: 90\n",
                        "    runs-on: ubuntu-24.04\n    timeout-minutes: 90\n"
                        "    container:\n      image: python:3.11.13-bookworm\n")
    broken = broken.replace(".venv/bin/pip install -q -r requirements-deploy.txt",
                            "sudo apt-get install -y chromium")
    assert rc.ci_errors(broken) == [
        "test: runs inside a container job",
        "manifests: installs system packages",
        "manifests: does not install requirements-deploy.txt alone"]


def test_dependabot_watches_pip_docker_and_actions_where_they_are():
    config = yaml.safe_load((REPO / ".github" / "dependabot.yml").read_text())
    assert rc.dependabot_errors(config, REPO) == []


def test_dependabot_without_docker_or_with_a_wrong_folder_fails():
    config = yaml.safe_load((REPO / ".github" / "dependabot.yml").read_text())
    config["updates"] = [u for u in config["updates"] if u["package-ecosystem"] != "docker"]
    config["updates"][0]["directories"].append("/frontend")
    assert rc.dependabot_errors(config, REPO) == [
        "no Dependabot updates for docker", "pip: /frontend has no *requirements*.txt"]
