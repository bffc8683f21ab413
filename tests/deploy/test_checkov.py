"""checkov (offline, `--skip-download`) on the rendered manifests, the Dockerfiles and the
workflows: zero failures, and every skip carries its reason (.checkov.yaml or an annotation).
About 5 s per scan; the first run on a fresh machine also builds .tools-venv (~2 min)."""
import json
import subprocess

import pytest
import yaml

from tests.deploy.manifests import OVERLAYS, REPO

DOCKERFILES = [REPO / "gateway" / "Dockerfile", REPO / "frontend" / "Dockerfile"]


def scan(checkov, framework, *targets):
    """(summary, failed, skipped) of one checkov run with the repo's config."""
    result = subprocess.run(
        [str(checkov), "--skip-download", "--config-file", str(REPO / ".checkov.yaml"),
         "--framework", framework, "--compact", "-o", "json", *map(str, targets)],
        cwd=REPO, capture_output=True, text=True, timeout=300)
    assert result.returncode in (0, 1), result.stderr[-2000:]
    report = json.loads(result.stdout)
    results = report.get("results", {})
    failed = [f"{c['check_id']} {c['check_name']} ({c['resource']}, {c['file_path']})"
              for c in results.get("failed_checks", [])]
    assert (result.returncode == 1) == bool(failed)
    return report["summary"], failed, results.get("skipped_checks", [])


@pytest.fixture(scope="module")
def rendered_dir(rendered, tmp_path_factory):
    directory = tmp_path_factory.mktemp("rendered")
    for overlay in OVERLAYS:
        (directory / f"{overlay}.yaml").write_text(yaml.safe_dump_all(rendered[overlay]))
    return directory


def test_rendered_overlays_pass(checkov, rendered, rendered_dir):
    summary, failed, skipped = scan(checkov, "kubernetes", "-d", rendered_dir)
    assert failed == []
    # checkov counts every object (and each pod template once more)
    assert summary["resource_count"] >= sum(len(objs) for objs in rendered.values())
    assert summary["passed"] > 100
    assert skipped and all(len(s["check_result"].get("suppress_comment", "")) > 20
                           for s in skipped), skipped


def test_an_unhardened_deployment_fails(checkov, rendered, tmp_path):
    bento = next(o for o in rendered["prod"] if o["kind"] == "Deployment")
    bento = yaml.safe_load(yaml.safe_dump(bento))
    container = bento["spec"]["template"]["spec"]["containers"][0]
    del container["securityContext"], container["resources"]["limits"]
    (tmp_path / "bento.yaml").write_text(yaml.safe_dump(bento))
    _, failed, _ = scan(checkov, "kubernetes", "-d", tmp_path)
    ids = {f.split()[0] for f in failed}
    assert {"CKV_K8S_20", "CKV_K8S_22", "CKV_K8S_28", "CKV_K8S_11", "CKV_K8S_13"} <= ids


def test_dockerfiles_pass(checkov):
    for dockerfile in DOCKERFILES:
        assert dockerfile.exists(), f"{dockerfile} is missing (issue 6)"
    args = [arg for path in DOCKERFILES for arg in ("-f", path)]
    summary, failed, _ = scan(checkov, "dockerfile", *args)
    assert failed == [] and summary["resource_count"] == len(DOCKERFILES)


def test_a_careless_dockerfile_fails(checkov, tmp_path):
    (tmp_path / "Dockerfile").write_text(
        "FROM python:latest\nRUN apt-get update && apt-get install -y curl\nCMD [\"python\"]\n")
    _, failed, _ = scan(checkov, "dockerfile", "-f", tmp_path / "Dockerfile")
    assert {"CKV_DOCKER_2", "CKV_DOCKER_3", "CKV_DOCKER_7"} <= {f.split()[0] for f in failed}


def test_workflows_pass(checkov):
    summary, failed, _ = scan(checkov, "github_actions", "-d", REPO / ".github" / "workflows")
    assert failed == [] and summary["passed"] > 50


def test_a_workflow_granting_write_all_fails(checkov, tmp_path):
    workflows = tmp_path / ".github" / "workflows"
    workflows.mkdir(parents=True)
    (workflows / "bad.yml").write_text(
        "on: push\npermissions: write-all\njobs:\n  build:\n    runs-on: ubuntu-24.04\n"
        "    steps:\n      - run: echo hello\n")
    _, failed, _ = scan(checkov, "github_actions", "-d", workflows)
    assert "CKV2_GHA_1" in {f.split()[0] for f in failed}
