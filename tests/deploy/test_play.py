"""The offline play's own rules (tests/deploy/play.py), and the first-sync rule it enforces on
the rendered prod overlay: a PreSync hook may read only the runbook's Secrets and earlier
hooks, since on a first sync nothing else exists yet (a hook that reads a generated ConfigMap
waits forever in CreateContainerConfigError, and the sync with it)."""
import copy

import pytest

from tests.deploy.manifests import REPO, render
from tests.deploy.play import Cluster, NotSchedulable, argo_order, expand, phase, pod_spec

RUNBOOK_SECRETS = ("gateway-database", "gateway-database-migrator", "retrain-database",
                   "mlflow-database", "mlflow-database-migrator", "retrain-github",
                   "oauth2-proxy", "mlflow-object-store", "model-object-store-reader")


@pytest.fixture(scope="module")
def prod():
    return render(REPO / "k8s" / "overlays" / "prod")


def first_sync_hooks(objects, tmp_path):
    """Apply and start the PreSync hooks as a first sync would; the processes built."""
    cluster = Cluster(objects, {name: {"DATABASE_URL": "postgresql://x@db/p", "token": "t",
                                       "MLFLOW_BACKEND_STORE_URI": "sqlite://"}
                                for name in RUNBOOK_SECRETS}, tmp_path)
    built = []
    for obj in (o for o in argo_order(objects) if phase(o) == "PreSync"):
        cluster.apply(obj)
        if obj["kind"] == "Job":
            built += [cluster.process(obj, c["name"]) for c in pod_spec(obj)["containers"]]
    return built


def test_argo_order_runs_hooks_by_wave_then_kinds(prod):
    ordered = [(phase(o), o["kind"], o["metadata"]["name"]) for o in argo_order(prod)]
    hooks = [entry for entry in ordered if entry[0] == "PreSync"]
    assert hooks[-2:] == [("PreSync", "Job", "gateway-migrate"),  # wave 0, after wave -1
                          ("PreSync", "Job", "mlflow-migrate")]
    assert ordered[:len(hooks)] == hooks
    kinds = [kind for phase_name, kind, _ in ordered if phase_name == "Sync"]
    assert kinds.index("Namespace") < kinds.index("ConfigMap") < kinds.index("Deployment")


def test_the_migration_hook_needs_only_the_runbook_secrets(prod, tmp_path):
    migrate, registry = first_sync_hooks(prod, tmp_path)
    assert migrate.argv == ["alembic", "upgrade", "head"]
    assert migrate.env["DATABASE_URL"] == "postgresql://x@db/p"
    secret = tmp_path / "mlflow-migrate" / "database" / "MLFLOW_BACKEND_STORE_URI"
    assert registry.argv[:2] == ["sh", "-c"] and f"mlflow db upgrade \"$(cat {secret})\"" \
        in registry.argv[2]
    assert secret.read_text() == "sqlite://"


def test_a_hook_reading_a_synced_config_map_is_refused(prod, tmp_path):
    broken = copy.deepcopy(prod)
    job = next(o for o in broken if o["kind"] == "Job")
    config = next(o for o in broken if o["kind"] == "ConfigMap"
                  and o["metadata"]["name"].startswith("gateway-config"))
    pod_spec(job)["containers"][0]["envFrom"] = [
        {"configMapRef": {"name": config["metadata"]["name"]}}]
    with pytest.raises(NotSchedulable, match="does not exist yet"):
        first_sync_hooks(broken, tmp_path)


def test_services_paths_and_variables_map_onto_this_machine(prod, tmp_path):
    cluster = Cluster(prod, {name: {"DATABASE_URL": "u", "token": "t", "credentials": name,
                                    "MLFLOW_BACKEND_STORE_URI": "sqlite://"}
                             for name in RUNBOOK_SECRETS}, tmp_path)
    for obj in argo_order(prod):
        cluster.apply(obj)
    mlflow = cluster.process(cluster.get("Deployment", "mlflow"), "mlflow")
    port = mlflow.ports[5000]
    assert f"--host 127.0.0.1 --port {port}" in mlflow.argv[-1]
    assert str(tmp_path / "mlflow" / "database" / "MLFLOW_BACKEND_STORE_URI") in mlflow.argv[-1]
    assert f"127.0.0.1:{port}" in mlflow.env["MLFLOW_SERVER_ALLOWED_HOSTS"].split(",")
    retrain = cluster.process(cluster.get("CronJob", "retrain"), "retrain")
    assert retrain.env["MLFLOW_TRACKING_URI"] == f"http://127.0.0.1:{port}"
    assert retrain.env["DATABASE_URL_FILE"] == str(tmp_path / "retrain" / "database" /
                                                   "DATABASE_URL")
    assert (tmp_path / "retrain" / "database" / "DATABASE_URL").read_text() == "u"
    pull = cluster.process(cluster.get("Deployment", "bento"), "registry-pull")
    assert pull.argv[pull.argv.index("--version") + 1] == "1"  # $(MODEL_VERSION) expanded
    # The pull reads object storage with the reader's mounted credentials, into its scratch
    # volume, and knows no MLflow.
    assert "MLFLOW_TRACKING_URI" not in pull.env
    assert pull.env["TMPDIR"] == str(tmp_path / "bento" / "registry-scratch")
    assert open(pull.env["AWS_SHARED_CREDENTIALS_FILE"]).read() == "model-object-store-reader"
    assert expand("$(A)-$$(A)-$(B)", {"A": "x"}) == "x-$(A)-$(B)"
