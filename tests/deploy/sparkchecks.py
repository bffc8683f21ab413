"""The Spark retrain component (k8s/components/spark-retrain) rendered onto the prod overlay,
and the checks its objects must pass: the ScheduledSparkApplication strictly against the
spark-operator CRD (and its template against the SparkApplication CRD), every other object
against Kubernetes, and the pod rules the rest of k8s/ follows."""
import os
import tempfile
from pathlib import Path

import jsonschema
import yaml

from tests.deploy.crosschecks import SHA256_DIGEST, of_kind, selects
from tests.deploy.manifests import REPO, name_of, render, shared_schemas_dir, strict

COMPONENT = REPO / "k8s" / "components" / "spark-retrain"
CRD_FILE = "spark-sparkoperator.k8s.io_sparkapplications.yaml"
SCHEDULED_CRD_FILE = "spark-sparkoperator.k8s.io_scheduledsparkapplications.yaml"


def render_with_component(overlay="prod"):
    """`kubectl kustomize` of a throwaway kustomization: the overlay plus the component."""
    with tempfile.TemporaryDirectory() as scratch:
        relative = lambda path: os.path.relpath(path, scratch)  # noqa: E731 (kustomize: no /)
        Path(scratch, "kustomization.yaml").write_text(yaml.safe_dump({
            "apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization",
            "namespace": "playlist-recs",
            "resources": [relative(REPO / "k8s" / "overlays" / overlay)],
            "components": [relative(COMPONENT)]}))
        return render(scratch)


def spark_validator(schemas_dir=None, crd_file=CRD_FILE):
    """(apiVersion, kind) and a strict validator from the CRD's storage version."""
    crd = yaml.safe_load((Path(schemas_dir or shared_schemas_dir()) / crd_file).read_text())
    version = next(v for v in crd["spec"]["versions"] if v.get("storage"))
    schema = strict(version["schema"]["openAPIV3Schema"])
    return (f"{crd['spec']['group']}/{version['name']}", crd["spec"]["names"]["kind"],
            jsonschema.Draft202012Validator(schema))


def crd_errors(app, validator):
    return [f"{name_of(app)}: {e.message} at /{'/'.join(str(p) for p in e.path)}"
            for e in validator.iter_errors(app)]


def application_spec(app):
    """A SparkApplication's spec, or the one a ScheduledSparkApplication makes each run."""
    return app["spec"]["template"] if app["kind"] == "ScheduledSparkApplication" else app["spec"]


def as_application(scheduled):
    """The SparkApplication the operator makes from a ScheduledSparkApplication's template."""
    return {"apiVersion": scheduled["apiVersion"], "kind": "SparkApplication",
            "metadata": scheduled["metadata"], "spec": scheduled["spec"]["template"]}


def egress_ports(objects, labels):
    """The TCP ports (None: any) that the NetworkPolicies selecting a pod with `labels` open
    to anything but the application's own pods."""
    own = {"app.kubernetes.io/name": labels.get("app.kubernetes.io/name")}
    ports = set()
    for policy in of_kind(objects, "NetworkPolicy"):
        if "Egress" not in policy["spec"]["policyTypes"] or not selects(policy, labels):
            continue
        for rule in policy["spec"].get("egress", []):
            peers = rule.get("to", [])
            if peers and all(peer.get("podSelector", {}).get("matchLabels") == own
                             for peer in peers):
                continue
            ports |= {port.get("port") for port in rule.get("ports") or [{}]}
    return ports


def pod_errors(app, objects):
    """Resources, a non-root pod and container, a digest-pinned image pulled IfNotPresent, and
    a NetworkPolicy (ingress and egress) over driver and executors alike."""
    spec, where = application_spec(app), name_of(app)
    errors = []
    if not SHA256_DIGEST.match(spec.get("image", "").rpartition("@")[2]):
        errors.append(f"{where}: image {spec.get('image')} is not pinned by digest")
    if spec.get("imagePullPolicy") != "IfNotPresent":
        errors.append(f"{where}: imagePullPolicy must be IfNotPresent")
    policies = of_kind(objects, "NetworkPolicy")
    for role in ("driver", "executor"):
        pod = spec.get(role, {})
        for field in ("cores", "coreLimit", "memory", "memoryLimit"):
            if field not in pod:
                errors.append(f"{where}: {role} has no {field}")
        security = pod.get("podSecurityContext") or {}
        if not security.get("runAsNonRoot") or not security.get("runAsUser"):
            errors.append(f"{where}: {role} pod may run as root")
        container = pod.get("securityContext") or {}
        if (container.get("allowPrivilegeEscalation") is not False
                or not container.get("readOnlyRootFilesystem")
                or "ALL" not in (container.get("capabilities") or {}).get("drop", [])):
            errors.append(f"{where}: {role} container is not locked down")
        labels = pod.get("labels") or {}
        # Its own policy (default-deny selects every pod and allows nothing), both ways.
        types = {t for p in policies if p["spec"]["podSelector"] and selects(p, labels)
                 for t in p["spec"]["policyTypes"]}
        if not {"Ingress", "Egress"} <= types:
            errors.append(f"{where}: no NetworkPolicy of its own fences the {role} both ways")
    return errors
