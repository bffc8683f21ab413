"""The retrain CronJob's Job ends the way its exit codes mean (issue 25, defect 3), and every
overlay's Bento pod gets a model (defect 4)."""
import copy

import pytest

from tests.deploy.jobchecks import bento_model_errors, job_outcome, retrain_job_errors
from tests.deploy.manifests import OVERLAYS
from tests.deploy.release_checks import find

# The policy the CronJob had: "Ignore" on exit 3 creates a replacement pod for every rejection.
OLD_POLICY = {"backoffLimit": 0, "podFailurePolicy": {"rules": [
    {"action": "Ignore", "onExitCodes": {"containerName": "retrain", "operator": "In",
                                         "values": [3]}}]}}


def retrain_job(objects):
    return find(objects, "CronJob", "retrain")["spec"]["jobTemplate"]["spec"]


def test_a_rejection_completes_bad_input_fails_and_an_outage_is_retried(rendered):
    assert retrain_job_errors(rendered["prod"]) == []
    job = retrain_job(rendered["prod"])
    assert job_outcome(job, "retrain", 137) == "Retried"  # OOM-killed: counted, retried


def test_the_old_policy_reruns_every_rejection_and_never_retries(rendered):
    prod = copy.deepcopy(rendered["prod"])
    job = retrain_job(prod)
    job.update(copy.deepcopy(OLD_POLICY))
    container = job["template"]["spec"]["containers"][0]
    container["command"] = [a for a in container["command"] if a not in (
        "--rejected-exit-code", "0")]
    assert retrain_job_errors(prod) == [
        "CronJob/retrain: exit 3 (rejected) ends Replaced, not Complete",
        "CronJob/retrain: exit 1 (outage) ends Failed, not Retried"]


def test_ignoring_every_failure_is_caught(rendered):
    prod = copy.deepcopy(rendered["prod"])
    job = retrain_job(prod)
    job["podFailurePolicy"]["rules"].insert(0, {"action": "Ignore", "onExitCodes": {
        "operator": "NotIn", "values": [0]}})
    assert retrain_job_errors(prod) == [
        "CronJob/retrain: exit 2 (bad input) ends Replaced, not Failed",
        "CronJob/retrain: exit 1 (outage) ends Replaced, not Retried"]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_bento_pod_makes_or_imports_its_model(rendered, overlay):
    assert bento_model_errors(rendered[overlay]) == []


def test_a_bento_pod_without_a_model_fails(rendered):
    """The dev overlay before issue 25: the prod-only registry pull, nothing in dev."""
    dev = copy.deepcopy(rendered["dev"])
    bento = find(dev, "Deployment", "bento")["spec"]["template"]["spec"]
    del bento["initContainers"]
    assert bento_model_errors(dev) == [
        "Deployment/bento: no init container puts a model into the store the Bento serves "
        "from (/var/lib/bentoml)"]
    prod = copy.deepcopy(rendered["prod"])
    pull = find(prod, "Deployment", "bento")["spec"]["template"]["spec"]["initContainers"][0]
    pull["volumeMounts"] = [m for m in pull["volumeMounts"] if m["name"] != "bentoml-home"]
    assert len(bento_model_errors(prod)) == 1
