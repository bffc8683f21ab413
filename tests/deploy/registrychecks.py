"""The registry is not a serving dependency (issue 25): a Bento pod starts from the pinned object
in object storage, verified by its digest, without MLflow; MLflow itself is stateless and
highly available; the download fits its scratch volume."""
from __future__ import annotations

import re

from tests.deploy.crosschecks import (argv, env_values, mebibytes, mount_of, of_kind,
                                      pod_containers)
from tests.deploy.reachchecks import mlflow_admits

SHA256 = re.compile(r"^[0-9a-f]{64}$")


def named(objects, kind, name):
    return next((o for o in of_kind(objects, kind) if o["metadata"]["name"] == name), None)


def resolved_env(container, objects):
    """env_values with configMapKeyRef resolved to the ConfigMap's value."""
    config_maps = {c["metadata"]["name"]: c.get("data", {}) for c in of_kind(objects, "ConfigMap")}
    values = {}
    for name, value in env_values(container, objects).items():
        ref = value.get("configMapKeyRef") if isinstance(value, dict) else None
        values[name] = config_maps.get(ref["name"], {}).get(ref["key"]) if ref else value
    return values


def registry_pull(objects):
    bento = named(objects, "Deployment", "bento")
    pod = bento["spec"]["template"]["spec"] if bento else {}
    pulls = [c for c in pod.get("initContainers") or [] if "bento.registry" in argv(c)]
    return pod, (pulls[0] if pulls else None)


def secret_of_file(pod, container, path):
    """The Secret mounted where `path` lies in this container, or None."""
    volumes = {v["name"]: v for v in pod.get("volumes") or []}
    volume = volumes.get(mount_of(container, path) or "", {})
    return volume.get("secret", {}).get("secretName")


def largest_model_mib(objects):
    """The largest model the retrain gate admits: its memory limit minus the Bento's base."""
    for cronjob in of_kind(objects, "CronJob"):
        for job in cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"]:
            env = env_values(job, objects)
            if "RETRAIN_MEMORY_LIMIT_MIB" in env:
                return float(env["RETRAIN_MEMORY_LIMIT_MIB"]) - float(
                    env.get("RETRAIN_BENTO_BASE_MIB", 0))
    return None


def scratch_errors(objects):
    """The pull's download (TMPDIR, else /tmp) and its import (BENTOML_HOME) each fit the
    largest model the gate admits."""
    pod, pull = registry_pull(objects)
    largest = largest_model_mib(objects)
    if pull is None or largest is None:
        return ["no registry pull or no retrain gate to size its scratch by"]
    env = resolved_env(pull, objects)
    volumes = {v["name"]: v for v in pod.get("volumes") or []}
    errors = []
    for role, path in (("download (TMPDIR)", env.get("TMPDIR", "/tmp")),
                       ("import (BENTOML_HOME)", env.get("BENTOML_HOME", ""))):
        volume = volumes.get(mount_of(pull, path.rstrip("/") + "/x") or "", {})
        size = volume.get("emptyDir", {}).get("sizeLimit")
        if size is None or mebibytes(size) < largest:
            errors.append(f"Deployment/bento: the pull's {role} {path} is on "
                          f"{volume.get('name', 'no volume')} of {size or 'unknown size'}, "
                          f"less than the largest model the gate admits ({largest:g} MiB)")
    return errors


def dependency_errors(objects):
    """The pull reads object storage with read-only credentials from a mounted Secret, never
    MLflow; MLflow runs two replicas, rolled, under a PodDisruptionBudget, with no volume."""
    pod, pull = registry_pull(objects)
    if pull is None:
        return ["Deployment/bento: no initContainer runs python -m bento.registry pull"]
    errors = []
    env = resolved_env(pull, objects)
    if "MLFLOW_TRACKING_URI" in env:
        errors.append("Deployment/bento: the pull gets MLFLOW_TRACKING_URI: a pod's start "
                      "depends on MLflow")
    if "Deployment/bento" in mlflow_admits(objects):
        errors.append("NetworkPolicy: MLflow admits the Bento pods")
    reader = secret_of_file(pod, pull, env.get("AWS_SHARED_CREDENTIALS_FILE", ""))
    mlflow = named(objects, "Deployment", "mlflow")
    if mlflow is None:
        return errors + ["no Deployment/mlflow"]
    spec = mlflow["spec"]
    server = pod_containers(mlflow)[0]
    writer = secret_of_file(spec["template"]["spec"], server,
                            resolved_env(server, objects).get("AWS_SHARED_CREDENTIALS_FILE", ""))
    if reader is None or reader == writer:
        errors.append(f"Deployment/bento: the pull's credentials are not a Secret of their own "
                      f"(mounted: {reader!r}, MLflow's writer: {writer!r})")
    if not str(resolved_env(server, objects).get("MLFLOW_ARTIFACTS_DESTINATION")).startswith(
            "s3://"):
        errors.append("Deployment/mlflow: artifacts are not in object storage "
                      "(MLFLOW_ARTIFACTS_DESTINATION s3://...)")
    if spec.get("replicas", 1) < 2 or spec.get("strategy", {}).get("type") == "Recreate":
        errors.append(f"Deployment/mlflow: {spec.get('replicas', 1)} replica(s), "
                      f"{spec.get('strategy', {}).get('type', 'RollingUpdate')}: not two rolled")
    claims = [v["name"] for v in spec["template"]["spec"].get("volumes") or []
              if "persistentVolumeClaim" in v]
    if claims:
        errors.append(f"Deployment/mlflow: mounts PersistentVolumeClaim volume(s) {claims}")
    labels = spec["template"]["metadata"]["labels"]
    if not any(pdb["spec"]["selector"]["matchLabels"].items() <= labels.items()
               for pdb in of_kind(objects, "PodDisruptionBudget")):
        errors.append("Deployment/mlflow: no PodDisruptionBudget selects its pods")
    return errors


def pin_digest_errors(objects, pin_text):
    """A pin with a digest names a sha256 and an object under MLflow's artifacts destination."""
    pin = dict(line.split("=", 1) for line in pin_text.splitlines() if "=" in line)
    if not pin.get("MODEL_SHA256") and not pin.get("MODEL_SOURCE"):
        return []  # first deployment: the number alone, its bytes come with the first PR
    mlflow = named(objects, "Deployment", "mlflow")
    store = resolved_env(pod_containers(mlflow)[0], objects).get("MLFLOW_ARTIFACTS_DESTINATION")
    errors = []
    if not SHA256.match(pin.get("MODEL_SHA256", "")):
        errors.append(f"model-version.env: MODEL_SHA256 {pin.get('MODEL_SHA256')!r} is not a "
                      "sha256 hex digest")
    if not str(pin.get("MODEL_SOURCE", "")).startswith(f"{str(store).rstrip('/')}/"):
        errors.append(f"model-version.env: MODEL_SOURCE {pin.get('MODEL_SOURCE')!r} is not an "
                      f"object under MLflow's artifacts destination {store!r}")
    return errors
