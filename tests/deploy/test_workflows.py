"""GitHub workflows: actionlint (with shellcheck on every run: script) and the repo's policy."""
import shutil
import subprocess

import pytest

from tests.deploy.crosschecks import workflow_policy_errors
from tests.deploy.manifests import REPO, tool

WORKFLOWS = sorted((REPO / ".github" / "workflows").glob("*.yml"))


def actionlint(*paths):
    shellcheck = shutil.which("shellcheck")
    assert shellcheck, "shellcheck is missing: scripts/apt-packages.txt lists it"
    return subprocess.run([tool("actionlint"), "-no-color", "-shellcheck", shellcheck,
                           *map(str, paths)], capture_output=True, text=True, timeout=120)


def test_ci_cd_and_the_prod_promotion_are_the_workflows():
    """No scheduled retraining workflow: retraining is a CronJob in the cluster (issue 11)."""
    assert {p.name for p in WORKFLOWS} == {"ci.yml", "cd.yml", "promote-prod.yml"}


def test_actionlint_passes_on_every_workflow():
    result = actionlint(*WORKFLOWS)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.fixture
def broken_workflow(tmp_path):
    target = tmp_path / ".github" / "workflows" / "broken.yml"
    target.parent.mkdir(parents=True)

    def write(text):
        target.write_text(text)
        return target
    return write


BROKEN_SHELL = """on: push
jobs:
  build:
    runs-on: ubuntu-24.04
    steps:
      - run: echo $UNQUOTED_PATH
"""


def test_actionlint_runs_shellcheck_and_fails_on_its_findings(broken_workflow):
    result = actionlint(broken_workflow(BROKEN_SHELL))
    assert result.returncode == 1 and "SC2086" in result.stdout


def test_actionlint_fails_on_an_undefined_expression(broken_workflow):
    text = BROKEN_SHELL.replace("echo $UNQUOTED_PATH", "echo '${{ github.no_such_thing }}'")
    result = actionlint(broken_workflow(text))
    assert result.returncode == 1 and "no_such_thing" in result.stdout


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_workflows_follow_the_policy(path):
    assert workflow_policy_errors(path.read_text()) == []


def test_policy_catches_tags_write_all_missing_concurrency_and_continue_on_error():
    text = (REPO / ".github" / "workflows" / "ci.yml").read_text()
    text = text.replace("permissions:\n  contents: read", "permissions: write-all")
    text = text.replace("concurrency:", "concurrency_removed:")
    text = text.replace("actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683",
                        "actions/checkout@v4")
    text = text.replace("    timeout-minutes: 20\n", "    continue-on-error: true\n")
    errors = workflow_policy_errors(text)
    assert "no least-privilege top-level permissions" in errors
    assert "no concurrency group" in errors
    assert "continue-on-error hides failures" in errors
    assert "manifests: no timeout-minutes" in errors
    assert sum("actions/checkout@v4 is not pinned" in e for e in errors) == 2
