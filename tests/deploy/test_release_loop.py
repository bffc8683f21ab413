"""The release loop converges: the workflow rules, and the scripts they run on a real git
history (issue 25, defect 1)."""
import json
import shutil
import subprocess

import pytest

from tests.deploy.loopchecks import prod_promotion_errors, release_gate_errors
from tests.deploy.manifests import REPO, tool

WORKFLOWS = REPO / ".github" / "workflows"
CD = (WORKFLOWS / "cd.yml").read_text()
PROD = (WORKFLOWS / "promote-prod.yml").read_text()
SCRIPTS = REPO / "scripts" / "images"
ZERO = "sha256:" + "0" * 64


def test_cd_releases_only_when_an_image_input_changed():
    assert release_gate_errors(CD) == []


def test_cd_without_the_gate_or_ignoring_it_fails():
    assert release_gate_errors(CD.replace("release-needed.sh", "true.sh")) == [
        "no single job runs scripts/images/release-needed.sh"]
    broken = CD.replace("    if: needs.changes.outputs.release == 'true'\n", "")
    broken = broken.replace("          fetch-depth: 0\n", "")
    assert release_gate_errors(broken) == [
        "changes: checks out without the history the diff needs",
        "images: runs even when changes finds nothing to release"]


def test_prod_gets_only_the_digests_dev_runs_healthy():
    assert prod_promotion_errors(PROD) == []


def test_a_prod_promotion_on_push_or_from_ci_digests_or_auto_merged_fails():
    broken = PROD.replace("  repository_dispatch:\n    types: [dev-healthy]\n",
                          "  push:\n    branches: [main]\n")
    broken = broken.replace('"$REVISION" >> "$GITHUB_ENV"', "main >> \"$GITHUB_ENV\"")
    broken = broken.replace("@$GATEWAY_DIGEST\"", "@$GATEWAY_CI_DIGEST\"")
    broken = broken.replace("          delete-branch: true\n", "          delete-branch: true\n"
                            "      - run: gh pr merge release/prod --auto --squash\n")
    assert prod_promotion_errors(broken) == [
        "prod promotion starts on ['push', 'workflow_dispatch'], not dev-healthy or by hand",
        "the digests do not come from scripts/images/dev-release.sh at the healthy revision",
        "prod does not pin $GATEWAY_DIGEST from dev",
        "prod's pull request must wait for a reviewer, opened by the App"]


# ---- the scripts on a real history ---------------------------------------------------------

def git(repo, *args):
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True,
                          text=True).stdout.strip()


def commit(repo, message, files):
    for name, text in files.items():
        path = repo / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", message)
    return git(repo, "rev-parse", "HEAD")


def run(repo, script, *args, env=None):
    return subprocess.run([str(SCRIPTS / script), *args], cwd=repo, capture_output=True,
                          text=True, env=env, timeout=60)


@pytest.fixture
def repo(tmp_path):
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    git(repo, "config", "user.email", "ci@example.org")
    git(repo, "config", "user.name", "ci")
    shutil.copytree(REPO / "k8s", repo / "k8s")
    return repo


def needed(repo, rev="HEAD"):
    result = run(repo, "release-needed.sh", rev)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def release_to_dev(repo, source, digest):
    """What merging CD's dev pull request commits: the dev overlay's digests, nothing else."""
    path = repo / "k8s" / "overlays" / "dev" / "kustomization.yaml"
    text = path.read_text().replace(ZERO, digest)
    return commit(repo, f"Release {source} to dev (#12)", {str(path.relative_to(repo)): text})


def test_release_and_model_pull_requests_start_no_new_release(repo):
    code = commit(repo, "code", {"bento/service.py": "v1\n"})
    assert needed(repo) == "release=true"  # nothing released yet
    release_to_dev(repo, code, "sha256:" + "1" * 64)
    assert needed(repo) == "release=false"  # the release PR's merge: pins only
    commit(repo, "Promote MODEL_VERSION=2", {"k8s/overlays/prod/model-version.env":
                                             "MODEL_VERSION=2\n"})
    commit(repo, "docs", {"README.md": "more\n", "docs/x.md": "x\n", "tests/test_x.py": "\n"})
    assert needed(repo) == "release=false"
    commit(repo, "fix", {"gateway/main.py": "v2\n"})
    assert needed(repo) == "release=true"


def test_dev_release_reads_the_digests_dev_renders_and_checks_them_running(repo):
    code = commit(repo, "code", {"bento/service.py": "v1\n"})
    assert run(repo, "dev-release.sh", "HEAD").returncode == 1  # no release to dev yet
    digest = "sha256:" + "2" * 64
    revision = release_to_dev(repo, code, digest)
    env = {"PATH": "/usr/bin:/bin", "KUSTOMIZE": f"{tool('kubectl')} kustomize"}
    result = run(repo, "dev-release.sh", revision, env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [f"SOURCE_SHA={code}", f"BENTO_DIGEST={digest}",
                                          f"GATEWAY_DIGEST={digest}", f"FRONTEND_DIGEST={digest}"]
    images = [f"ghcr.io/example-org/playlist-recs-{name}@{digest}"
              for name in ("bento", "gateway", "frontend")]
    running = run(repo, "dev-release.sh", revision, env={**env, "RUNNING": json.dumps(images)})
    assert running.returncode == 0, running.stderr
    stale = run(repo, "dev-release.sh", revision, env={**env, "RUNNING": json.dumps(images[:2])})
    assert stale.returncode == 1 and "dev does not run" in stale.stderr
    assert "playlist-recs-frontend" in stale.stderr


def test_argo_cd_tells_github_when_dev_is_healthy(argocd_objects):
    from tests.deploy.manifests import k8s_schema_errors, load_yaml_dir

    [config] = load_yaml_dir(REPO / "argocd" / "notifications")
    assert k8s_schema_errors([config]) == []
    dev = next(o for o in argocd_objects if o["metadata"]["name"] == "playlist-recs-dev")
    [subscription] = dev["metadata"]["annotations"]
    # notifications.argoproj.io/subscribe.TRIGGER.SERVICE
    trigger, service = subscription.split("/subscribe.")[1].split(".")
    assert f"trigger.{trigger}" in config["data"]
    assert f"service.webhook.{service}" in config["data"]
    assert "Healthy" in config["data"][f"trigger.{trigger}"]
    assert '"event_type": "dev-healthy"' in config["data"]["template.dev-healthy"]
