"""The registry is not a serving dependency (tests/deploy/registrychecks.py): the rules pass on
the prod overlay and fail on copies broken the way the old overlay was."""
import copy

import pytest

from tests.deploy import registrychecks as rc
from tests.deploy.manifests import REPO

PIN = REPO / "k8s" / "overlays" / "prod" / "model-version.env"
DIGEST = "ab" * 32
SOURCE = "s3://playlist-recs-models/mlflow/1/0f/artifacts/bentomodel/m.bentomodel"


@pytest.fixture
def prod(rendered):
    return copy.deepcopy(rendered["prod"])


def pod(objects, name):
    return rc.named(objects, "Deployment", name)["spec"]["template"]["spec"]


def test_prod_starts_bentos_without_mlflow(rendered):
    assert rc.dependency_errors(rendered["prod"]) == []
    assert rc.scratch_errors(rendered["prod"]) == []
    assert rc.pin_digest_errors(rendered["prod"], PIN.read_text()) == []
    assert rc.pin_digest_errors(rendered["prod"], f"MODEL_VERSION=3\nMODEL_SHA256={DIGEST}\n"
                                                  f"MODEL_SOURCE={SOURCE}\n") == []


def test_the_old_overlay_fails(prod):
    """As before issue 25: the pull through MLflow, one Recreate replica on a PVC, no PDB."""
    bento = pod(prod, "bento")
    pull = bento["initContainers"][0]
    pull["envFrom"].append({"configMapRef": {"name": next(
        c["metadata"]["name"] for c in rc.of_kind(prod, "ConfigMap")
        if c["metadata"]["name"].startswith("mlflow-client"))}})
    pull["env"] = [e for e in pull["env"] if e["name"] != "AWS_SHARED_CREDENTIALS_FILE"]
    policy = rc.named(prod, "NetworkPolicy", "mlflow")
    policy["spec"]["ingress"][0]["from"].append(
        {"podSelector": {"matchLabels": {"app.kubernetes.io/name": "bento"}}})
    mlflow = rc.named(prod, "Deployment", "mlflow")
    mlflow["spec"].update(replicas=1, strategy={"type": "Recreate"})
    mlflow["spec"]["template"]["spec"]["volumes"].append(
        {"name": "artifacts", "persistentVolumeClaim": {"claimName": "mlflow-artifacts"}})
    [server] = mlflow["spec"]["template"]["spec"]["containers"]
    server["env"] = [e for e in server["env"] if e["name"] != "MLFLOW_ARTIFACTS_DESTINATION"]
    prod.remove(rc.named(prod, "PodDisruptionBudget", "mlflow"))
    errors = rc.dependency_errors(prod)
    assert [e.split(":")[0].split(" ")[0] for e in errors] == [
        "Deployment/bento", "NetworkPolicy", "Deployment/bento", "Deployment/mlflow",
        "Deployment/mlflow", "Deployment/mlflow", "Deployment/mlflow"], errors
    assert "MLFLOW_TRACKING_URI" in errors[0] and "not a Secret of their own" in errors[2]
    assert "not two rolled" in errors[4] and "['artifacts']" in errors[5]


def test_the_pull_may_not_share_mlflows_writer_credentials(prod):
    bento = pod(prod, "bento")
    [secret] = [v for v in bento["volumes"] if v["name"] == "object-store"]
    secret["secret"]["secretName"] = "mlflow-object-store"
    [error] = rc.dependency_errors(prod)
    assert "MLflow's writer: 'mlflow-object-store'" in error


def test_a_download_larger_than_its_scratch_fails(prod):
    """/tmp (256Mi) as the old pull used it: a ~700 MiB model the gate admits does not fit."""
    pull = pod(prod, "bento")["initContainers"][0]
    pull["env"] = [e for e in pull["env"] if e["name"] != "TMPDIR"]
    [error] = rc.scratch_errors(prod)
    assert "download (TMPDIR) /tmp is on tmp of 256Mi" in error and "(704 MiB)" in error
    home = [v for v in pod(prod, "bento")["volumes"] if v["name"] == "bentoml-home"][0]
    home["emptyDir"]["sizeLimit"] = "512Mi"
    assert len(rc.scratch_errors(prod)) == 2


@pytest.mark.parametrize("pin, expected", [
    (f"MODEL_VERSION=3\nMODEL_SHA256=abc\nMODEL_SOURCE={SOURCE}\n", "is not a sha256 hex"),
    (f"MODEL_VERSION=3\nMODEL_SOURCE={SOURCE}\n", "MODEL_SHA256 None"),
    (f"MODEL_VERSION=3\nMODEL_SHA256={DIGEST}\n", "MODEL_SOURCE None is not an object"),
    (f"MODEL_VERSION=3\nMODEL_SHA256={DIGEST}\nMODEL_SOURCE=s3://elsewhere/m.bentomodel\n",
     "not an object under MLflow's artifacts destination 's3://playlist-recs-models/mlflow'"),
])
def test_a_pin_with_a_bad_digest_or_source_fails(rendered, pin, expected):
    [error] = rc.pin_digest_errors(rendered["prod"], pin)
    assert expected in error
