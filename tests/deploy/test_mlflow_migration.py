"""The registry's schema is upgraded by its own PreSync Job (`mlflow db upgrade`, issue 25), as
the registry database's owner, before the new MLflow pods start; the server itself holds a
rows-only credential. The rule passes on the rendered prod overlay and fails on broken copies;
tests/e2e/test_day_one.py runs the Job and the server with those roles on a real PostgreSQL."""
import copy

import pytest

from tests.deploy.crosschecks import (HOOK, HOOK_DELETE, migration_hook_reach_errors,
                                      of_kind, pod_containers)
from tests.deploy.manifests import name_of

UPGRADE = "mlflow db upgrade"


def backend_secret(pod: dict) -> str | None:
    """The Secret mounted where the backend URI file is read from."""
    mounts = {m["name"]: m["mountPath"] for c in pod["containers"]
              for m in c.get("volumeMounts") or []}
    for volume in pod.get("volumes") or []:
        secret = (volume.get("secret") or {}).get("secretName")
        if secret and mounts.get(volume["name"]) == "/var/run/secrets/mlflow":
            return secret
    return None


def registry_migration_errors(objects: list[dict]) -> list[str]:
    """Exactly one Job upgrades MLflow's schema: a PreSync hook (its ServiceAccount and
    NetworkPolicy too, so they exist on a first sync), the server's image, the owner's Secret
    (not the server's), a way to the database."""
    server = next(d for d in of_kind(objects, "Deployment") if name_of(d) == "Deployment/mlflow")
    server_pod = server["spec"]["template"]["spec"]
    if any(UPGRADE in " ".join(c.get("command") or []) for c in pod_containers(server)):
        return [f"{name_of(server)} upgrades the schema itself: it needs DDL rights"]
    jobs = [j for j in of_kind(objects, "Job")
            if any(UPGRADE in " ".join(c.get("command") or [])
                   for c in j["spec"]["template"]["spec"]["containers"])]
    if len(jobs) != 1:
        return [f"{len(jobs)} Jobs run {UPGRADE} (want exactly one)"]
    [job] = jobs
    errors = []
    notes = job["metadata"].get("annotations") or {}
    if notes.get(HOOK) != "PreSync" or not notes.get(HOOK_DELETE):
        errors.append(f"{name_of(job)} is not a replaced ArgoCD PreSync hook")
    pod = job["spec"]["template"]["spec"]
    if pod["containers"][0]["image"] != server_pod["containers"][0]["image"]:
        errors.append(f"{name_of(job)} runs another image than the MLflow server")
    owner, runtime = backend_secret(pod), backend_secret(server_pod)
    if not owner or owner == runtime:
        errors.append(f"{name_of(job)} does not use the registry owner's own Secret")
    return errors + migration_hook_reach_errors(objects, job)


@pytest.fixture
def prod(rendered):
    return copy.deepcopy(rendered["prod"])


def find(objects, kind, name):
    return next(o for o in objects if o["kind"] == kind and o["metadata"]["name"] == name)


def test_the_registry_schema_is_upgraded_by_its_own_hook(prod):
    assert registry_migration_errors(prod) == []


def test_an_upgrade_as_the_server_or_outside_presync_fails(prod):
    job = find(prod, "Job", "mlflow-migrate")
    del job["metadata"]["annotations"][HOOK]
    server = find(prod, "Deployment", "mlflow")["spec"]["template"]["spec"]
    job["spec"]["template"]["spec"]["volumes"] = copy.deepcopy(server["volumes"])
    job["spec"]["template"]["spec"]["containers"][0]["image"] = "ghcr.io/mlflow/mlflow:old"
    find(prod, "NetworkPolicy", "mlflow-migrate")["spec"]["egress"] = []
    assert [e.split(" ", 1)[1] for e in registry_migration_errors(prod)] == [
        "is not a replaced ArgoCD PreSync hook", "runs another image than the MLflow server",
        "does not use the registry owner's own Secret",
        "no NetworkPolicy lets it reach the database (5432)"]


def test_no_upgrade_job_or_a_server_that_upgrades_fails(prod):
    without = [o for o in prod if name_of(o) != "Job/mlflow-migrate"]
    assert registry_migration_errors(without) == ["0 Jobs run mlflow db upgrade (want exactly one)"]
    server = find(prod, "Deployment", "mlflow")["spec"]["template"]["spec"]["containers"][0]
    server["command"] = ["sh", "-c", "mlflow db upgrade $URI && exec mlflow server"]
    [error] = registry_migration_errors(prod)
    assert "upgrades the schema itself" in error
